@testable import Datasets
import Foundation
import XCTest

/// The one CSV reader and writer (CSV.swift underneath) and the one formula rule.
final class CSVTableTests: XCTestCase {
    func testRoundTripOfAwkwardCellsWithBothLineEnds() throws {
        let rows = [["path", "note"], ["a,b.jpg", "say \"hi\""], ["multi\nline", ""], ["ünïcödé ✓", "\r\n"]]
        for end in [CSVTable.LineEnd.crlf, .lf] {
            let text = CSVTable.render(rows, lineEnd: end)
            XCTAssertTrue(text.hasSuffix(end == .crlf ? "\r\n" : "\n"), "every row ends with the line end")
            XCTAssertEqual(try CSVTable.parse(text), rows)
        }
        XCTAssertEqual(CSVTable.render([["x", "y,z"]], lineEnd: .lf), "x,\"y,z\"\n", "quoted only when needed")
    }

    func testBlankLinesAndAByteOrderMarkAreSkippedAndAnOpenQuoteRunsToTheEnd() throws {
        XCTAssertEqual(try CSVTable.parse("\u{FEFF}path,split\n\na.jpg,test\n\n"), [["path", "split"], ["a.jpg", "test"]])
        // An unterminated quote runs to the end of the file, as RFC 4180 readers do: one field, not a crash.
        XCTAssertEqual(try CSVTable.parse("path,split\n\"a.jpg,test\n"), [["path", "split"], ["a.jpg,test\n"]])
    }

    func testOneFormulaRuleThatLeavesNumbersAlone() {
        for danger in ["=1+1", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "=", "-cmd"] {
            XCTAssertEqual(CSVTable.neutralise(danger), "'" + danger)
        }
        for safe in ["-0.5", "+3", "1e-05", "-1e-3", "a=b", "", "0.910000"] {
            XCTAssertEqual(CSVTable.neutralise(safe), safe)
        }
    }
}
