/*
 * cdicom: the only code in lstv-node that includes DCMTK.
 *
 * Swift cannot import DCMTK's C++ classes directly, so this target exposes a small extern "C" API with
 * plain C types: datasets (read attributes, decode pixels), a C-STORE/C-ECHO service class provider
 * (SCP) with one thread per association, and (later) SCU and SR/SC writers. Policy (what to accept,
 * where files go, which status to answer) stays in Swift; this layer is mechanism only.
 */
#ifndef CDICOM_H
#define CDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Once per process: registers the JPEG, JPEG-LS and RLE decoders, sets TCP_NODELAY for DCMTK's
 * own sockets and quietens DCMTK's logger (errors are reported through return values). */
void cdicom_initialize(int dcmtk_log_level /* 0 trace … 5 fatal */);

/* ------------------------------------------------------------------------------------------ */
/* Datasets                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct cdicom_dataset cdicom_dataset;

/* Opens a DICOM Part 10 file (or a raw dataset, transfer syntax guessed). header_only != 0 leaves
 * values longer than 4 KiB (pixel data) on disk, but the whole file is still parsed, so a truncated
 * file fails here. Returns NULL and writes a message into err on failure. */
cdicom_dataset *cdicom_dataset_open(const char *path, int header_only, char *err, size_t err_len);
void cdicom_dataset_close(cdicom_dataset *ds);

/* Copies the value of (group,element) as a string (multiple values joined by '\\') into buf.
 * Searches the dataset, then the file meta information (group 0002). Returns 1 if present (the
 * value may be empty), 0 if absent, -1 if buf is too small. */
int cdicom_dataset_get_string(cdicom_dataset *ds, uint16_t group, uint16_t element, char *buf, size_t buf_len);

/* Copies the value of (group,element) of frame `frame` (0-based) of an enhanced multi-frame image
 * from the functional group macro (sequence_group,sequence_element), e.g. Plane Position (Patient)
 * (0020,9113): from the frame's item of the Per-Frame Functional Groups Sequence, else from the
 * Shared Functional Groups Sequence. Values are not converted from the Specific Character Set (the
 * node reads numbers and code strings here). Returns 1 if present, 0 if absent, -1 if buf is too
 * small. */
int cdicom_dataset_frame_string(cdicom_dataset *ds, uint32_t frame, uint16_t sequence_group, uint16_t sequence_element,
                                uint16_t group, uint16_t element, char *buf, size_t buf_len);

/* Number of frames, rows, columns, samples per pixel of the image. Frames, rows and columns are 0 when
 * there is no pixel data, or when native pixel data is too short for one frame as the header
 * describes it: callers size their decode buffers from these. */
int cdicom_dataset_image_info(cdicom_dataset *ds, uint32_t *frames, uint32_t *rows, uint32_t *columns,
                              uint32_t *samples_per_pixel);

/* Decodes one frame of a monochrome image (any transfer syntax the node accepts: DCMTK's JPEG,
 * JPEG-LS and RLE decoders) into out (rows*columns floats), stored values with BitsStored masking and
 * sign extension, then RescaleSlope/RescaleIntercept applied. Returns 0 on success. */
int cdicom_dataset_decode_frame(cdicom_dataset *ds, uint32_t frame, float *out, size_t out_count,
                                char *err, size_t err_len);

/* Decodes one frame of an 8-bit RGB image (SamplesPerPixel 3, PhotometricInterpretation RGB, either
 * PlanarConfiguration; e.g. the node's key images) into out as interleaved R, G, B bytes, row by row
 * (rows*columns*3 bytes). Returns 0 on success. */
int cdicom_dataset_decode_rgb8(cdicom_dataset *ds, uint32_t frame, uint8_t *out, size_t out_count,
                               char *err, size_t err_len);

/* ------------------------------------------------------------------------------------------ */
/* DICOM TLS (issue 15): the BCP 195 profile (PS3.15 B.9) on DCMTK's dcmtls, for the listener   */
/* (a TLS port) and the sender (per destination).                                             */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    const char *certificate;  /* PEM file: this end's certificate; required for the listener, and for
                                 a sender whose destination asks for a client certificate */
    const char *private_key;  /* PEM file: the certificate's private key, unencrypted */
    const char *const *trusted_certificates; size_t trusted_certificate_count;
                              /* PEM files, or directories of hashed PEM files (c_rehash), of the CAs
                                 whose certificates the peer may present */
    int require_peer_certificate; /* 1: a peer without a certificate a trusted CA signed is refused;
                                     0: one the peer presents is still verified, but none is needed */
} cdicom_tls_config;

/* What cdicom_tls_check (and creating a TLS listener or sender) found wrong. */
enum {
    CDICOM_TLS_OK = 0,
    CDICOM_TLS_BAD_CERTIFICATE = 1,          /* missing, unreadable or not a PEM certificate */
    CDICOM_TLS_BAD_PRIVATE_KEY = 2,          /* missing, unreadable, encrypted, or not the certificate's key */
    CDICOM_TLS_BAD_TRUSTED_CERTIFICATES = 3, /* a CA file or directory that does not load; none while one is required */
    CDICOM_TLS_UNAVAILABLE = 4,              /* the TLS library or the BCP 195 profile could not be set up */
};

/* Loads everything a listener (server != 0) or a sender would, without connecting. Returns a
 * CDICOM_TLS_* code and a message in err when not OK. */
int cdicom_tls_check(const cdicom_tls_config *config, int server, char *err, size_t err_len);

/* ------------------------------------------------------------------------------------------ */
/* Storage SCP                                                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct cdicom_scp cdicom_scp;

typedef struct {
    const char *calling_ae_title;
    const char *called_ae_title;
    const char *peer_host;
    uint64_t association_id; /* unique within the process, for log correlation */
} cdicom_association_info;

/* What accept_association answers. */
enum {
    CDICOM_ACCEPT = 0,
    CDICOM_REJECT_CALLED_AE = 1,  /* A-ASSOCIATE-RJ permanent, called AE title not recognised */
    CDICOM_REJECT_CALLING_AE = 2, /* A-ASSOCIATE-RJ permanent, calling AE title not recognised */
    CDICOM_REJECT_NO_REASON = 3,  /* A-ASSOCIATE-RJ permanent, no reason given (host not allowed) */
};

typedef struct {
    const cdicom_association_info *association;
    const char *affected_sop_class_uid;    /* from the C-STORE-RQ command */
    const char *affected_sop_instance_uid; /* from the C-STORE-RQ command */
    const char *transfer_syntax_uid;       /* of the accepted presentation context */
    uint16_t message_id;
} cdicom_store_request;

typedef struct {
    void *context;
    /* Called on the association's thread before the A-ASSOCIATE-AC is sent. */
    int (*accept_association)(void *context, const cdicom_association_info *info);
    /* Called before the data set is read. Return 0 and write a temporary file path into tmp_path to
     * receive the data set there (Part 10, bit-preserving, not fsync'd). Return a DIMSE status
     * instead to read and discard the data set and answer that status (e.g. 0xA700 when the disk is
     * nearly full, 0x0122 for an unsupported SOP class). */
    uint16_t (*store_begin)(void *context, const cdicom_store_request *request, char *tmp_path, size_t tmp_path_len);
    /* Called once the data set is complete in tmp_path; returns the DIMSE status to answer. The
     * callee owns tmp_path from here (moves or removes it). Not called when the transfer broke off:
     * the shim removes the partial file itself. */
    uint16_t (*store_end)(void *context, const cdicom_store_request *request, const char *tmp_path);
    /* Association events for the log: level 0 debug, 1 info, 2 warning, 3 error. No patient data. */
    void (*log)(void *context, int level, const char *message);
    /* Called once when an accepted association is over (released, aborted, timed out, broken off),
     * after its last store_end; may be NULL. */
    void (*association_ended)(void *context, const cdicom_association_info *info);
    /* Called when a connection is refused before an association exists: a failed TLS handshake (an
     * untrusted, expired or missing peer certificate, plain TCP on the TLS port) or a malformed
     * request; for the audit trail. May be NULL. */
    void (*connection_refused)(void *context, const char *peer_host, const char *reason);
} cdicom_scp_callbacks;

typedef struct {
    const char *ae_title;
    uint16_t port;            /* plain TCP listener; 0: none (TLS only) */
    uint16_t tls_port;        /* TLS listener when tls is not NULL */
    const cdicom_tls_config *tls;
    int max_associations;     /* concurrent connections (negotiating or associated); one more is rejected
                                 with A-ASSOCIATE-RJ (transient, local limit exceeded) */
    int max_associations_per_peer; /* of those, from one remote host (address); the same rejection.
                                 Below 1: max_associations */
    int acse_timeout_seconds; /* association negotiation and release */
    int dimse_timeout_seconds;/* idle time between messages before the association is aborted */
    uint32_t max_pdu;         /* maximum PDU we receive */
    const char *const *sop_classes;       size_t sop_class_count;       /* storage SOP classes */
    const char *const *transfer_syntaxes; size_t transfer_syntax_count; /* in order of preference */
} cdicom_scp_config;

/* Binds the port. Returns NULL and a message in err on failure.
 *
 * Threads: run() only accepts TCP connections; each connection gets a thread of its own that reads
 * the A-ASSOCIATE-RQ (within acse_timeout_seconds), so a connection that sends nothing delays no one
 * else. A malformed request is answered with A-ABORT (or A-ASSOCIATE-RJ) where the connection can
 * still carry a PDU, and reported once through the log callback (level 2, no patient data). */
cdicom_scp *cdicom_scp_create(const cdicom_scp_config *config, const cdicom_scp_callbacks *callbacks,
                              char *err, size_t err_len);
/* Accepts associations until cdicom_scp_stop; then waits up to grace_seconds for the associations in
 * flight to finish (aborting the rest) and returns. Blocks: run it on a dedicated thread. */
int cdicom_scp_run(cdicom_scp *scp, int grace_seconds);
/* Asks run to stop accepting. Thread-safe; returns at once. */
void cdicom_scp_stop(cdicom_scp *scp);
/* Associations open now (the metrics gauge). Thread-safe. */
int cdicom_scp_active_associations(cdicom_scp *scp);
void cdicom_scp_destroy(cdicom_scp *scp);


/* ========================================================================================== */
/* Writers and sender (issue 5): structured report, secondary capture, storage SCU.            */
/* Appended section; the declarations above are unchanged. Codes and policy come from Swift.   */
/* ========================================================================================== */

typedef struct {
    const char *value;
    const char *scheme;          /* coding scheme designator, e.g. "DCM", "SCT", "99LSTV" */
    const char *meaning;
    const char *scheme_version;  /* NULL or "" when none */
} cdicom_code;

typedef struct {
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *series_instance_uid;
    const char *study_instance_uid;
    uint32_t frame_number;              /* Referenced Frame Number (1-based) of a multi-frame image; 0: none */
} cdicom_instance_ref;

/* A coding scheme to declare in CodingSchemeIdentificationSequence (private schemes need it). */
typedef struct {
    const char *designator;
    const char *name;                   /* may be NULL */
    const char *uid;                    /* may be NULL */
    const char *responsible_organization; /* may be NULL */
    const char *version;                /* may be NULL */
} cdicom_coding_scheme;

typedef struct {
    const char *tracking_identifier;
    const char *tracking_uid;
    cdicom_code finding_site;
    /* Values as decimal strings (DS, at most 16 characters) formatted by the caller. */
    const char *peak_confidence;
    const char *entropy;
    const char *spatial_entropy;
    int has_point;
    /* DICOM image coordinates (PS3.3 C.18.6.1.1): column then row, TLHC of the TLHC pixel = 0\0. */
    float point_column;
    float point_row;
} cdicom_sr_level;

/* One NUM of the assessment group: concept, unit, value as a decimal string (DS). */
typedef struct {
    cdicom_code concept, unit;
    const char *value;
} cdicom_sr_num;

/* One TEXT qualitative evaluation (UT value). */
typedef struct {
    cdicom_code concept;
    const char *text;
} cdicom_sr_text;

/* What every object the node creates says about itself: its place in the analysed study (General
   Series, SOP Common, content date/time) and the equipment that made it (General Equipment). */
typedef struct {
    const char *study_instance_uid, *series_instance_uid, *sop_instance_uid;
    int series_number; const char *series_description; int instance_number;
    const char *content_date;           /* YYYYMMDD */
    const char *content_time;           /* HHMMSS.FFFFFF */
    const char *timezone_offset;        /* +HHMM, may be NULL */
    const char *manufacturer, *model_name, *software_version; /* model and version may be NULL */
} cdicom_new_instance;

typedef struct {
    const char *source_path;            /* Patient, General Study, Patient Study modules copied from it */
    const char *middle_slice_path;      /* optional (NULL): image library descriptors read from it */
    const cdicom_instance_ref *evidence; size_t evidence_count;
    cdicom_instance_ref middle_slice;
    cdicom_new_instance instance;
    const char *device_observer_uid, *device_observer_name;
    const char *institution_name;       /* may be NULL */
    const char *algorithm_name, *algorithm_version;
    const char *const *algorithm_parameters; size_t algorithm_parameter_count;
    cdicom_code document_title;         /* (126000, DCM, "Imaging Measurement Report") */
    cdicom_code language, country;      /* (en, RFC5646, English) (US, ISO3166_1, United States) */
    cdicom_code procedure_reported;
    cdicom_code purpose_of_reference;   /* of the SCOORD/IMAGE under a measurement, e.g. Source of Measurement */
    cdicom_code peak_confidence_concept, peak_confidence_unit;
    cdicom_code entropy_concept, entropy_unit;
    cdicom_code spatial_entropy_concept, spatial_entropy_unit;
    cdicom_code suspicion_concept, suspicion_value;
    cdicom_code ladder_concept, ladder_value;
    /* TEXT qualitative evaluations after the coded ones: why the suspicion rose, why the ladder is not consistent. */
    const cdicom_sr_text *findings; size_t finding_count;
    /* A TID 1501 group of series-level NUMs (suspicion, count, junction); NULL uid or no NUMs: none. */
    const char *assessment_tracking_identifier, *assessment_tracking_uid;
    const cdicom_sr_num *assessment; size_t assessment_count;
    cdicom_code equipment_purpose;      /* ContributingEquipmentSequence purpose of reference */
    const cdicom_coding_scheme *coding_schemes; size_t coding_scheme_count;
    const cdicom_instance_ref *predecessor; /* NULL when this is not a revision */
    int enhanced;                       /* 0: Comprehensive 3D SR, 1: Enhanced SR */
    const cdicom_sr_level *levels; size_t level_count;
} cdicom_sr_report;

/* Writes the TID 1500 report as a Part 10 file (explicit VR little endian). Returns 0 on success. */
int cdicom_sr_write(const cdicom_sr_report *report, const char *path, char *err, size_t err_len);

typedef struct {
    const char *source_path;
    const uint8_t *rgb; uint32_t rows; uint32_t columns;   /* interleaved RGB, rows*columns*3 bytes */
    cdicom_new_instance instance;
    cdicom_instance_ref derived_from;
    const char *derivation_description;                         /* may be NULL */
} cdicom_sc_image;

/* Writes a Secondary Capture Image (RGB, explicit VR little endian). Returns 0 on success. */
int cdicom_sc_write(const cdicom_sc_image *image, const char *path, char *err, size_t err_len);

typedef struct {
    const char *source_path;            /* Patient, General Study, Patient Study modules copied from it */
    cdicom_new_instance instance;
    cdicom_code title;                  /* CID 7010, e.g. (113000, DCM, "Of Interest") */
    cdicom_code description_concept;    /* (113012, DCM, "Key Object Description") */
    const char *description;            /* may be NULL: no description item */
    const cdicom_instance_ref *references; size_t reference_count; /* the selected instances, in order */
} cdicom_kos_document;

/* Writes a Key Object Selection Document (TID 2010) as a Part 10 file. Returns 0 on success. */
int cdicom_kos_write(const cdicom_kos_document *document, const char *path, char *err, size_t err_len);

/* Storage SCU outcome. */
enum {
    CDICOM_SCU_OK = 0,
    CDICOM_SCU_CONNECTION_FAILED = 1,   /* TCP connect failed or timed out, no A-ASSOCIATE response */
    CDICOM_SCU_REJECTED_PERMANENT = 2,  /* A-ASSOCIATE-RJ, result rejected-permanent */
    CDICOM_SCU_REJECTED_TRANSIENT = 3,  /* A-ASSOCIATE-RJ, result rejected-transient */
    CDICOM_SCU_NO_PRESENTATION_CONTEXT = 4, /* a file's SOP class was not accepted; nothing was sent */
    CDICOM_SCU_ABORTED = 5,             /* the association broke off (A-ABORT, timeout, network) */
    CDICOM_SCU_BAD_FILE = 6,            /* a file could not be read; nothing was sent */
};

typedef struct {
    const char *calling_ae_title;
    const char *called_ae_title;
    const char *host;
    uint16_t port;
    int timeout_seconds;                /* connect, ACSE and DIMSE */
    uint32_t max_pdu;                   /* maximum PDU we receive; 0 = 16384 */
    const cdicom_tls_config *tls;       /* NULL: plain TCP; else DICOM TLS (a failed handshake:
                                           CDICOM_SCU_CONNECTION_FAILED) */
} cdicom_scu_config;

/* One association: proposes, for each file's SOP class, its own transfer syntax and explicit/implicit
 * VR little endian; sends every file (converted to an accepted uncompressed syntax when its own was
 * refused); releases. statuses[i] receives the C-STORE-RSP status of files[i]. TCP_NODELAY is set on
 * the association's socket. Returns a CDICOM_SCU_* code and a message in err when not OK. */
int cdicom_scu_store(const cdicom_scu_config *config, const char *const *files, size_t file_count,
                     uint16_t *statuses, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
