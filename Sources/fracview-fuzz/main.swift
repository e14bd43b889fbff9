import Foundation
import FuzzHarnesses

// fracview-fuzz HARNESS [ARGS…]
// Built by scripts/fuzz.sh with -DFUZZING and libFuzzer's driver: ARGS are libFuzzer's (corpus folders, -runs=N,
// -max_total_time=S). In an ordinary build it replays the files and folders in ARGS through the harness once each,
// the way the FuzzTests target replays the committed corpus.

let arguments = CommandLine.arguments
guard arguments.count >= 2, let harness = Harness(rawValue: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: fracview-fuzz \(Harness.allCases.map(\.rawValue).joined(separator: "|")) [ARGS…]\n".utf8))
    exit(2)
}

#if FUZZING
nonisolated(unsafe) var selected = harness
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
// libFuzzer sees the program name and its own arguments, without the harness name.
var argv: [UnsafeMutablePointer<CChar>?] = [strdup(arguments[0])] + arguments.dropFirst(2).map { strdup($0) } + [nil]
var argc = Int32(argv.count - 1)
let status = argv.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var base = buffer.baseAddress!
    return LLVMFuzzerRunDriver(&argc, &base) { data, count in
        selected.run(count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count)))
        return 0
    }
}
exit(status)
#else
var files: [String] = []
for arg in arguments.dropFirst(2) {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: arg, isDirectory: &isDir) else { continue }
    if isDir.boolValue {
        files += ((try? FileManager.default.contentsOfDirectory(atPath: arg)) ?? []).sorted().map { arg + "/" + $0 }
    } else {
        files.append(arg)
    }
}
for file in files {
    harness.run(Array((try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()))
}
print("\(harness.rawValue): \(files.count) inputs replayed, no crash")
#endif
