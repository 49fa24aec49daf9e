// Process-wide DCMTK set-up.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/oflog/oflog.h"
#include "cdicom.h"

#include <cstdlib>
#include <mutex>

void cdicom_initialize(int dcmtk_log_level) {
    static std::once_flag once;
    std::call_once(once, [dcmtk_log_level] {
        // DCMTK reads TCP_NODELAY from the environment when it opens a socket; Nagle's algorithm
        // makes a C-STORE round trip wait for the delayed ACK (about 50x slower). The SCP also sets
        // the option on each accepted socket, so this only covers DCMTK's outgoing connections.
        setenv("TCP_NODELAY", "1", 0);
        // Peers are identified by address: no reverse DNS lookup per association (a slow DNS
        // server would stall every incoming association, and allow lists hold addresses).
        dcmDisableGethostbyaddr.set(OFTrue);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
        static const OFLogger::LogLevel levels[] = {
            OFLogger::TRACE_LOG_LEVEL, OFLogger::DEBUG_LOG_LEVEL, OFLogger::INFO_LOG_LEVEL,
            OFLogger::WARN_LOG_LEVEL, OFLogger::ERROR_LOG_LEVEL, OFLogger::FATAL_LOG_LEVEL};
        int i = dcmtk_log_level < 0 ? 0 : (dcmtk_log_level > 5 ? 5 : dcmtk_log_level);
        OFLog::configure(levels[i]);
        // The network layer's failures reach the node through return values, and the SCP logs one
        // line per failed association request; DCMTK's own line would be a second one.
        OFLog::getLogger("dcmtk.dcmnet").setLogLevel(OFLogger::FATAL_LOG_LEVEL);
    });
}
