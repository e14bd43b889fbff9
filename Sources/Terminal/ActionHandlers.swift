/// What the key loop must do after an action (htop's `Htop_Reaction`): a handler changes the session or the view
/// and returns this; `ReviewApp` redraws, clears or quits accordingly, and handles a case change the same way for all.
struct Reaction: OptionSet {
    let rawValue: Int
    /// Leave the review.
    static let quit = Reaction(rawValue: 1 << 0)
    /// The image panel is covered or uncovered by a panel: its pixels must be sent again.
    static let imageCovered = Reaction(rawValue: 1 << 1)
    /// Clear the terminal and paint everything from scratch.
    static let clearScreen = Reaction(rawValue: 1 << 2)
    /// The palette changed: colour pairs are made again, then everything is painted.
    static let newColours = Reaction(rawValue: 1 << 3)
}

/// A key table action's handler: it gets the app and the key that asked (`relabel` reads its digit).
typealias ActionHandler = (ReviewApp, Key) -> Reaction

/// Every action's handler, from the four groups (moving between cases, deciding, the view of the image, the panels
/// and the rest). Each action has exactly one (`Dictionary(uniqueKeysWithValues:)` traps on a second, and a test
/// checks none is missing).
enum ActionHandlers {
    static let all: [Action: ActionHandler] = Dictionary(
        uniqueKeysWithValues: Array(NavigationActions.handlers) + Array(DecisionActions.handlers)
            + Array(ViewActions.handlers) + Array(PanelActions.handlers))

    static func handler(for action: Action) -> ActionHandler {
        all[action] ?? { app, _ in app.setMessage("\(action.rawValue): no handler", error: true); return [] }
    }
}
