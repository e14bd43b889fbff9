/// Moving between cases: the loop then starts the new case's view (`ImageView.newCase`) and asks for its prediction.
enum NavigationActions {
    static let handlers: [Action: ActionHandler] = [
        .next: { app, _ in app.session.move(by: 1); return [] },
        .previous: { app, _ in app.session.move(by: -1); return [] },
        .forward10: { app, _ in app.session.move(by: 10); return [] },
        .back10: { app, _ in app.session.move(by: -10); return [] },
        .first: { app, _ in app.session.moveToFirst(); return [] },
        .last: { app, _ in app.session.moveToLast(); return [] },
    ]
}
