import Records

extension SeriesDescriptors {
    /// The descriptors a data set's top level gives. An enhanced multi-frame image keeps orientation,
    /// TE, TR and slice thickness in its functional groups instead, per stack
    /// (`EnhancedFrames.stacks`).
    public init(topLevelOf ds: DicomDataset) {
        self.init(patientID: ds.text(.patientID), accessionNumber: ds.text(.accessionNumber), studyDate: ds.text(.studyDate),
                  modality: ds.text(.modality), seriesDescription: ds.text(.seriesDescription), protocolName: ds.text(.protocolName),
                  seriesNumber: ds.int(.seriesNumber), imageType: ds.strings(.imageType).filter { !$0.isEmpty },
                  imageOrientationPatient: ds.doubles(.imageOrientationPatient), echoTime: ds.double(.echoTime),
                  repetitionTime: ds.double(.repetitionTime), sliceThickness: ds.double(.sliceThickness))
    }
}
