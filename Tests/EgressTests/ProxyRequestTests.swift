import Egress
import Testing

@Suite("Proxy request heads")
struct ProxyRequestTests {
    func parse(_ text: String) -> Result<ProxyRequest, EgressRefusal> { ProxyRequest.parse(Array(text.utf8)) }

    @Test("CONNECT names a host and port; the name is lowercased and a trailing dot dropped")
    func connect() throws {
        #expect(try parse("CONNECT API.Example.com.:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n").get() == .connect(ProxyTarget(host: "api.example.com", port: 443)))
        #expect(try parse("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n").get().target == ProxyTarget(host: "[2001:db8::1]", port: 443))
    }

    @Test("Plain HTTP goes upstream in origin form, with the URL's Host, without proxy headers, and Connection: close")
    func plainHTTP() throws {
        let request = try parse(
            "POST http://api.example.com:8080/v1/items?q=1#frag HTTP/1.1\r\nHost: evil.example\r\nProxy-Authorization: Basic eA==\r\n"
                + "Connection: keep-alive\r\nContent-Length: 2\r\nX-Custom: yes\r\n\r\n"
        ).get()
        guard case .http(let target, let head) = request else { Issue.record("not http"); return }
        #expect(target == ProxyTarget(host: "api.example.com", port: 8080))
        #expect(String(decoding: head, as: UTF8.self) == "POST /v1/items?q=1 HTTP/1.1\r\nHost: api.example.com:8080\r\nContent-Length: 2\r\nX-Custom: yes\r\nConnection: close\r\n\r\n")
        #expect(try parse("GET http://api.example.com HTTP/1.1\r\n\r\n").get().target == ProxyTarget(host: "api.example.com", port: 80))
        guard case .http(_, let bare) = try parse("GET http://a.example?x HTTP/1.1\r\n\r\n").get() else { Issue.record("not http"); return }
        #expect(String(decoding: bare, as: UTF8.self).hasPrefix("GET /?x HTTP/1.1\r\nHost: a.example\r\n"))
    }

    @Test("A ws:// handshake keeps its Upgrade, and nothing else of the client's connection headers")
    func webSocket() throws {
        guard case .http(_, let head) = try parse(
            "GET http://a.example:8080/ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\n"
        ).get() else { Issue.record("not http"); return }
        #expect(head.text == "GET /ws HTTP/1.1\r\nHost: a.example:8080\r\nSec-WebSocket-Key: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    }

    @Test("Anything else is a bad request, named", arguments: [
        "GET /relative HTTP/1.1\r\n\r\n",  // origin form: not a proxy request
        "GET https://a.example/ HTTP/1.1\r\n\r\n",  // HTTPS must tunnel
        "GET http://user:pw@a.example/ HTTP/1.1\r\n\r\n",
        "CONNECT a.example HTTP/1.1\r\n\r\n", "CONNECT a.example:0 HTTP/1.1\r\n\r\n", "CONNECT a.example:70000 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:+443 HTTP/1.1\r\n\r\n", "CONNECT a b:443 HTTP/1.1\r\n\r\n", "CONNECT [::1:443 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:443 HTTP/2\r\n\r\n", "connect a.example:443 HTTP/1.1\r\n\r\n", "CONNECT  a.example:443 HTTP/1.1\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n", "CONNECT a.example:443 HTTP/1.1\nX: 1\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\nNoColon\r\n\r\n",
    ])
    func bad(text: String) {
        guard case .failure(.badRequest) = parse(text) else { Issue.record("accepted \(text.debugDescription)"); return }
    }

    @Test("A head longer than the limit is refused without being parsed")
    func longHead() {
        let text = "CONNECT a.example:443 HTTP/1.1\r\nX: " + String(repeating: "a", count: ProxyRequest.maxHeadBytes) + "\r\n\r\n"
        guard case .failure(.badRequest(let detail)) = parse(text) else { Issue.record("accepted"); return }
        #expect(detail.contains("longer"))
    }

    @Test("The end of a head is found across any split")
    func headEnd() {
        #expect(ProxyRequest.headLength(in: Array("CONNECT a:1 HTTP/1.1\r\n\r\nrest".utf8)) == 24)
        #expect(ProxyRequest.headLength(in: Array("CONNECT a:1 HTTP/1.1\r\n\r".utf8)) == nil)
        #expect(ProxyRequest.headLength(in: Array("\r\n\r\n".utf8)) == 4)
    }
}
