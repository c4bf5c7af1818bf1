// CDP URLs for the differential test: how the gateway reads browser.cdpUrl
// (new URL, then its loopback test on the hostname, then the port), over
// hand-picked cases (issue 8's disagreements among them) and combinations.
export function urlCases (count, seed) {
    const hand = [
        'http://127.0.0.1:32500#@x', 'http://127.0.0.1:32500?@evil.com:1', 'http://evil.com@127.0.0.1:9222',
        'http://127.0.0.1:9222@evil.com:1', 'http://[::ffff:127.0.0.1]:9222', 'http://[::ffff:7f00:1]:9222',
        'http://[::1]:9222', 'http://[::]:9222', 'http://[0:0:0:0:0:0:0:1]:9222', 'http://[::127.0.0.1]:9222',
        'http://2130706433:9222', 'http://0x7f000001:9222', 'http://0x7f.1:9222', 'http://0177.0.0.1:9222',
        'http://127.1:9222', 'http://127.0.1:9222', 'http://127.0.0.1.:9222', 'http://0.0.0.0:9222',
        'http://0:9222', 'http://localhost:9222', 'http://LOCALHOST:9222', 'http://localhost.:9222',
        'http://localhost..:9222', 'http://localhost.localdomain:9222', 'http://sub.localhost:9222',
        'http://127.0.0.1', 'https://127.0.0.1', 'ws://127.0.0.1', 'wss://127.0.0.1', 'WS://127.0.0.1:1',
        'http://127.0.0.1:80', 'https://127.0.0.1:443', 'http://127.0.0.1:443', 'http://127.0.0.1:0',
        'http://127.0.0.1:65535', 'http://127.0.0.1:65536', 'http://127.0.0.1:00080', 'http://127.0.0.1:9x',
        'http://127.0.0.1:', 'http://127.0.0.1:/json', 'ftp://127.0.0.1:21', 'file:///tmp/x', 'chrome://x',
        'http:127.0.0.1:9222', 'http:/127.0.0.1:9222', 'http:\\\\127.0.0.1:9222', 'http:///127.0.0.1:9222',
        '  http://127.0.0.1:9222  ', '\u00a0http://127.0.0.1:9222', 'http://127.0.0.1:9222\u3000',
        'http://127.0.\t0.1:9222', 'http://127.0.0.1:92\n22', 'http://%31%32%37.0.0.1:9222',
        'http://127.0.0.1%2e:9222', 'http://１２７．０．０．１:9222', 'http://127。0。0。1:9222',
        'http://ｌｏｃａｌｈｏｓｔ:9222', 'http://[::1:9222', 'http://[::1]x:9222', 'http://[::1]:',
        'http://[fe80::1%25eth0]:9222', 'http://256.0.0.1:9222', 'http://127.0.0.256:9222', 'http://127.0.0.1.2:9222',
        'http://1.2.3.4.5:9222', 'http://127.0.0.0x1:9222', 'http://127.0.0.09:9222', 'http://127.0.0.1x:9222',
        'http://0x:9222', 'http://0x.0x.0x.0x7f:9222', 'http://127.0.0.1/path?q#f', 'http://user:pass@[::1]:5000/',
        'http://a b:1', 'http://a<b:1', 'http://exa%00mple.com:1', 'http://example.com:9222', 'http://10.0.0.1:9222',
        'http://:9222', 'http://@127.0.0.1:1', 'http://', 'http://127.0.0.1\\x:3', 'https://localhost/',
        'ws://[::ffff:127.1.2.3]/devtools', 'wss://[::ffff:128.0.0.1]:1', 'http://4294967295:1', 'http://4294967296:1',
        'http://0xffffffff:1', 'http://0x1ffffffff:1', 'http://1.16777215:1', 'http://1.16777216:1', 'http://127.0xffffff:1',
    ]
    let a = seed >>> 0
    const r = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
    const pick = (xs) => xs[Math.floor(r() * xs.length)]
    const schemes = ['http', 'https', 'ws', 'wss', 'HTTP', 'ftp', 'Http']
    const seps = ['://', ':/', ':', ':\\\\', ':///', '://']
    const users = ['', '', 'u@', 'u:p@', '@', 'a@b@', 'x:1@']
    const hosts = ['127.0.0.1', 'localhost', '[::1]', '[::ffff:127.0.0.1]', '0.0.0.0', '[::]', '2130706433', '0x7f.1',
        '127.1', '017700000001', '127.255.255.255', '128.0.0.1', 'example.com', 'LocalHost', '127.0.0.1.', '[::ffff:7f00:1]',
        '1.2.3', '0x7F.0.0.1', '127.0.0.1%2E', '%6c%6fcalhost', '127.0.0.01', '[0::1]', '[::ffff:0:127.0.0.1]', '']
    const ports = ['', '', ':9222', ':80', ':443', ':0', ':65535', ':65536', ':', ':00009', ':9a', ':-1']
    const tails = ['', '', '/', '/json/version', '?x', '#f', '#@evil', '?@a:1', '/\\x', ' ', '\t']
    const out = [...hand]
    for (let i = 0; i < count; i++) out.push(pick(schemes) + pick(seps) + pick(users) + pick(hosts) + pick(ports) + pick(tails))
    return out
}
