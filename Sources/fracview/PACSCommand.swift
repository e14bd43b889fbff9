import ArgumentParser
import Foundation
import PACS

/// `fracview pacs`: a PACS over DICOMweb — list its studies, send findings back.
struct PACSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pacs",
        abstract: "Work with a PACS over DICOMweb: list studies, send the review's findings back as DICOM.",
        discussion: """
            Review a PACS's studies with `fracview review URL --study UID` (or --query). Credentials: the URL's \
            user and password, a bearer token in $FRACVIEW_DICOMWEB_TOKEN, or ~/.netrc ($NETRC); they are never \
            printed or stored. docs/pacs.md has the details.
            """,
        subcommands: [PACSStudiesCommand.self, PACSSendCommand.self])
}

/// `fracview pacs studies URL`: QIDO-RS, one line per study (no patient data).
struct PACSStudiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studies",
        abstract: "List the studies a PACS holds (QIDO-RS): date, time, modalities, series and instances, description, UID.")

    @Argument(help: ArgumentHelp("The DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web.", valueName: "URL"))
    var url: String

    @Option(help: ArgumentHelp("A QIDO-RS match key, e.g. ModalitiesInStudy=DX or StudyDate=20261201- (repeatable).",
                               valueName: "KEY=VALUE"))
    var query: [String] = []

    @Flag(help: "One JSON object per study.")
    var json = false

    func run() throws {
        var options = PACSOptions()
        options.query = query
        let client = try options.client(url: url, environment: ProcessInfo.processInfo.environment)
        let studies: [StudySummary]
        do { studies = try client.studies(query: options.queryPairs()) } catch let e as ValidationError { throw e } catch {
            throw CommandFailure("\(error)")
        }
        // Oldest first, as a worklist reads.
        let sorted = studies.sorted { ($0.date ?? "", $0.time ?? "", $0.uid) < ($1.date ?? "", $1.time ?? "", $1.uid) }
        if json {
            for s in sorted { Console.line(JSONOutput.line(s)) }
            return
        }
        if sorted.isEmpty { Console.line("no studies at \(client.server.display)"); return }
        for s in sorted {
            let date = s.date.map(Self.isoDate) ?? "undated"
            let counts = "\(s.series.map(String.init) ?? "?") series, \(s.instances.map(String.init) ?? "?") instances"
            Console.line("\(date)  \(s.modalities.joined(separator: ","))  \(counts)  \(s.description ?? "")  \(s.uid)")
        }
    }

    static func isoDate(_ d: String) -> String {
        d.count == 8 && d.allSatisfy(\.isNumber) ? "\(d.prefix(4))-\(d.dropFirst(4).prefix(2))-\(d.suffix(2))" : d
    }
}
