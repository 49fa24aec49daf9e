import Foundation

extension Pipeline {
    /// The series' row of the `lstv_flags` view (its latest finished analysis), with the SOP Instance
    /// UIDs of the SR and key image made from that analysis (`sr_sop_instance_uid`,
    /// `key_image_sop_instance_uid`, NULL when none); nil when the series has no finished analysis.
    public func flag(seriesInstanceUID uid: String) throws -> Row? {
        try database.withConnection { c in
            try c.execute("""
                SELECT f.*,
                    (SELECT r.sop_instance_uid FROM results r WHERE r.analysis_id = f.analysis_id AND r.kind = '\(ResultKind.sr.rawValue)'
                     ORDER BY r.id DESC LIMIT 1) AS sr_sop_instance_uid,
                    (SELECT r.sop_instance_uid FROM results r WHERE r.analysis_id = f.analysis_id AND r.kind = '\(ResultKind.keyImage.rawValue)'
                     ORDER BY r.id DESC LIMIT 1) AS key_image_sop_instance_uid
                FROM lstv_flags f WHERE f.series_instance_uid = $1
                """, [uid]).rows.first
        }
    }
}
