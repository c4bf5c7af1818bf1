// Deterministic random inputs for the differential test: JSON5 documents
// spelled with random choices among the grammar's alternatives (every kind
// of whitespace, comment, key, string escape and number form), half of them
// then mutated at the byte level (inserted, deleted, duplicated or replaced
// bytes, invalid UTF-8 included) to probe the edges of the accepted set.
function rng (seed) { // mulberry32
    let a = seed >>> 0
    return () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

export function generate (seed, count) {
    const r = rng(seed)
    const int = (n) => Math.floor(r() * n)
    const pick = (xs) => xs[int(xs.length)]
    const maybe = (p) => r() < p

    const spaces = [' ', '\t', '\n', '\r\n', '\r', '\v', '\f', '\u00a0', '\ufeff', '\u1680', '\u2000',
        '\u200a', '\u202f', '\u205f', '\u3000', '\u2028', '\u2029', '\u0085', '\u200b', '\u180e']
    const interesting = [0, 0x7f, 0x80, 0xa0, 0xaa, 0xad, 0x2b9, 0x300, 0x345, 0x660, 0x6dd, 0x93c,
        0x1885, 0x200c, 0x200d, 0x2118, 0x212e, 0x2160, 0x309b, 0x30fb, 0x3007, 0xd7ff, 0xe000,
        0xfeff, 0xff10, 0xff21, 0xffff, 0x10000, 0x1d400, 0x1d7ce, 0x1f600, 0x20000, 0x2fa1d,
        0xe0001, 0xe0100, 0x10ffff]
    function codePoint () {
        const x = r()
        if (x < 0.4) return Math.min(0x10ffff, Math.max(0, pick(interesting) + int(3) - 1))
        if (x < 0.7) return int(0x3000)
        if (x < 0.9) return int(0x10000)
        return int(0x110000)
    }
    const char = () => {
        const cp = codePoint()
        return cp >= 0xd800 && cp <= 0xdfff ? '\\u' + cp.toString(16) : String.fromCodePoint(cp)
    }
    const hex = (n) => Array.from({ length: n }, () => pick('0123456789abcdefABCDEF')).join('')
    const digits = (n) => Array.from({ length: n }, () => int(10)).join('')

    function ws () {
        let s = ''
        while (maybe(0.3)) {
            const x = r()
            if (x < 0.7) s += pick(spaces)
            else if (x < 0.85) s += '//' + (maybe(0.5) ? char() : ' c') + pick(['\n', '\r', '\u2028', '\u2029', '\u0085'])
            else s += '/*' + pick(['', '*', ' x ', '\n', '**']) + '*/'
        }
        return s
    }
    function escape () {
        const x = r()
        if (x < 0.3) return '\\' + pick('bfnrtv0\'"\\/aqx'.split(''))
        if (x < 0.5) return '\\x' + hex(2)
        if (x < 0.8) return '\\u' + (maybe(0.3) ? pick(['d83d', 'de00', 'd800', 'dbff', 'dc00', 'dfff']) : hex(4))
        return '\\' + pick(['\n', '\r\n', '\r', '\u2028', '\u2029', '1', '9', 'é', '😀', ''])
    }
    function string () {
        const q = pick(['"', "'"])
        let s = q
        const n = int(6)
        for (let i = 0; i < n; i++) s += maybe(0.3) ? escape() : maybe(0.1) ? pick(['"', "'", '\u2028', '\0']) : char()
        return s + q
    }
    function number () {
        const sign = pick(['', '', '-', '+'])
        const x = r()
        if (x < 0.1) return sign + pick(['Infinity', 'NaN'])
        if (x < 0.3) return sign + pick(['0x', '0X']) + hex(1 + int(maybe(0.2) ? 40 : 8))
        const intPart = pick(['0', digits(1 + int(maybe(0.2) ? 40 : 4)), ''])
        const frac = maybe(0.4) ? '.' + digits(int(maybe(0.1) ? 30 : 4)) : ''
        const exp = maybe(0.3) ? pick(['e', 'E']) + pick(['', '+', '-']) + digits(1 + int(3)) : ''
        return sign + (intPart || (frac ? '' : '0')) + frac + exp
    }
    function key () {
        const x = r()
        if (x < 0.4) return string()
        let k = maybe(0.2) ? '\\u' + pick(['0061', '0024', '005f', '00e9', '0031', '200c', hex(4)]) : pick(['a', '$', '_', 'é', 'Z']) + (maybe(0.3) ? char() : '')
        while (maybe(0.4)) k += maybe(0.15) ? '\\u' + hex(4) : maybe(0.5) ? pick(['a', '1', '$', '\u200c', '\u0300']) : char()
        return maybe(0.1) ? String(int(20)) : k
    }
    function value (depth) {
        const x = r()
        if (depth < 4 && x < 0.3) {
            const n = int(5)
            const keys = []
            for (let i = 0; i < n; i++) keys.push(ws() + (maybe(0.3) && keys.length ? keys[0].split(':')[0] : key()) + ws() + ':' + value(depth + 1))
            return '{' + keys.join(',') + (maybe(0.3) ? ',' : '') + ws() + '}'
        }
        if (depth < 4 && x < 0.45) {
            const items = Array.from({ length: int(5) }, () => value(depth + 1))
            return '[' + items.join(',') + (maybe(0.3) && items.length ? ',' : '') + ws() + ']'
        }
        let v
        if (x < 0.65) v = string()
        else if (x < 0.9) v = number()
        else v = pick(['null', 'true', 'false'])
        return ws() + v + ws()
    }
    const invalidBytes = [0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x00]
    function mutate (buf) {
        const bytes = [...buf]
        const n = 1 + int(3)
        for (let i = 0; i < n; i++) {
            const at = int(bytes.length + 1)
            const x = r()
            if (x < 0.3) bytes.splice(at, 0, maybe(0.5) ? pick(invalidBytes) : int(256))
            else if (x < 0.5) bytes.splice(at, 1 + int(3))
            else if (x < 0.7) bytes.splice(at, 0, ...Buffer.from(pick([',', ':', '{', '}', '[', ']', '"', "'", '\\', '/', '*', '\\u', 'e', '.', '-', '0x', ...spaces]), 'utf8'))
            else if (x < 0.85) bytes.splice(at, 0, ...bytes.slice(int(bytes.length), int(bytes.length) + int(8)))
            else if (at < bytes.length) bytes[at] = int(256)
        }
        return Buffer.from(bytes)
    }

    const out = []
    for (let i = 0; i < count; i++) {
        const doc = Buffer.from(ws() + value(0) + ws(), 'utf8')
        out.push(maybe(0.5) ? mutate(doc) : doc)
    }
    return out
}
