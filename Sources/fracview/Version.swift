/// fracview's version: `fracview --version`, and the Software Versions of the DICOM objects it sends to a PACS.
enum FracviewVersion {
    static let current = "0.9.0-dev"
}
