import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP through URLSession (libcurl underneath on Linux; TLS with the system's certificates), for the
/// client's background threads. An answer larger than `limit` is cancelled as it arrives, so a server can never
/// make fracview hold more than that in memory.
final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Response { var status: Int; var headers: [String: String]; var body: Data }

    private let lock = NSLock()
    private var tasks: [Int: (data: Data, limit: Int, overflow: Bool, response: HTTPURLResponse?, done: DispatchSemaphore, error: Error?, refused: Bool)] = [:]
    private lazy var session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral  // no cookie or credential store on disk
        configuration.timeoutIntervalForRequest = 60
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.urlCredentialStorage = nil
        return URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }()

    func send(_ request: URLRequest, limit: Int) throws -> Response {
        let task = session.dataTask(with: request)
        let done = DispatchSemaphore(value: 0)
        lock.lock(); tasks[task.taskIdentifier] = (Data(), limit, false, nil, done, nil, false); lock.unlock()
        task.resume()
        done.wait()
        lock.lock(); let state = tasks.removeValue(forKey: task.taskIdentifier)!; lock.unlock()
        if state.overflow { throw PACSError("answer larger than \(limit >> 20) MiB; refused") }
        if state.refused { return Response(status: 401, headers: [:], body: Data()) }
        if let error = state.error { throw error }
        guard let response = state.response else { throw PACSError("no HTTP answer") }
        var headers: [String: String] = [:]
        for (key, value) in response.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return Response(status: response.statusCode, headers: headers, body: state.data)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.lock()
        tasks[dataTask.taskIdentifier]?.response = response as? HTTPURLResponse
        let limit = tasks[dataTask.taskIdentifier]?.limit ?? 0
        let tooLarge = response.expectedContentLength > Int64(limit)
        if tooLarge { tasks[dataTask.taskIdentifier]?.overflow = true }
        lock.unlock()
        completionHandler(tooLarge ? .cancel : .allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock(); defer { lock.unlock() }
        guard var state = tasks[dataTask.taskIdentifier], !state.overflow else { return }
        if state.data.count + data.count > state.limit {
            state.overflow = true
            state.data = Data()
            tasks[dataTask.taskIdentifier] = state
            dataTask.cancel()
            return
        }
        state.data.append(data)
        tasks[dataTask.taskIdentifier] = state
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        tasks[task.taskIdentifier]?.error = error
        let done = tasks[task.taskIdentifier]?.done
        lock.unlock()
        done?.signal()
    }

    /// fracview sends its credentials up front (the Authorization header); a challenge after that means they were
    /// refused, and the 401 itself is the answer. (Left unanswered, URLSession waits here forever.)
    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        // (On Linux TLS is libcurl's, with the system's certificates: no server-trust challenge reaches here.)
        lock.lock(); tasks[task.taskIdentifier]?.refused = true; lock.unlock()
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    /// Redirects keep the Authorization header only on the same host: a PACS must not send fracview's password on.
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        var next = request
        if request.url?.host != task.originalRequest?.url?.host || request.url?.scheme != task.originalRequest?.url?.scheme {
            next.setValue(nil, forHTTPHeaderField: "Authorization")
        }
        completionHandler(next)
    }
}
