// DCMTK's TLS transport layer built from a cdicom_tls_config (tls.cc). Not part of the C API.
#ifndef CDICOM_TLS_H
#define CDICOM_TLS_H
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dcmlayer.h"
#include "cdicom.h"

#include <string>

namespace cdicom {
// A TLS layer for the role (NET_ACCEPTOR: the listener, NET_REQUESTOR: the sender), or NULL with a
// CDICOM_TLS_* code in *failure and the reason in message.
DcmTransportLayer *makeTLSLayer(const cdicom_tls_config &config, T_ASC_NetworkRole role, int *failure,
                                std::string &message);
}  // namespace cdicom
#endif
