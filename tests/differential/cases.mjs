// Hand-written edge cases for the differential test: one or more for every
// root cause issue 8 lists, and the corners of json5 2.2.3's grammar. Each
// entry is a string (written as UTF-8) or a Buffer (raw bytes).
const b = (...bytes) => Buffer.from(bytes.flat())
const utf8 = (s) => [...Buffer.from(s, 'utf8')]

const spaces = ['\u0009', '\u000b', '\u000c', '\u0020', '\u00a0', '\ufeff', '\u1680',
    '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008',
    '\u2009', '\u200a', '\u202f', '\u205f', '\u3000', '\u2028', '\u2029', '\u0085', '\u180e',
    '\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\u0000', '\u001c', '\u001f']

const cases = []
const add = (...xs) => cases.push(...xs)

// Data loss: a // comment ended by U+2028/U+2029, a key followed by U+3000.
for (const sep of ['\u2028', '\u2029', '\n', '\r', '\r\n', '\u0085'])
    add(`{ // the gateway${sep} gateway: { port: 19001, auth: { token: 'x' } } }`)
add('{gateway\u3000: {port: 19001}}', '{"gateway"\u3000:1}', '{gateway\u00a0:1}')

// Every whitespace candidate, between tokens and after keywords and numbers.
for (const s of spaces) {
    add(`${s}{${s}a${s}:${s}1${s},${s}b${s}:${s}true${s}}${s}`)
    add(`[true${s}]`, `[null${s},false${s}]`, `1${s}`, `Infinity${s}`, `'x'${s}`)
    add(`{"a":1}${s}`, `// c${s}1`, `/* ${s} */1`)
}

// NUL and other controls in strings, raw and escaped.
add(b(utf8("'a"), 0, utf8("b'")), b(utf8("'\\"), 0, utf8("'")), b(utf8('"'), 0, utf8('"')), "'\\0'", "'\\u0000'", "'\\x00'",
    "'\\00'", "'\\01'", "'\\0a'", '"\\u0000\\u0000"', "{'\\0':1, '\\u0000':2}",
    b(utf8('{"'), 0, utf8('":1,"\\u0000":2}')))
for (let c = 1; c < 0x20; c++) add(b(utf8('"'), c, utf8('"')))

// Escapes.
add("'\\b\\f\\n\\r\\t\\v\\'\\\"\\\\\\/\\a\\q\\é\\😀'", "'\\x41\\x7e\\xff'", "'\\x4'", "'\\xg0'",
    "'\\u12'", "'\\u{41}'", "'\\1'", "'\\9'", "'\\8'", "'a\\\nb'", "'a\\\r\nb'", "'a\\\rb'",
    "'a\\\u2028b'", "'a\\\u2029b'", "'a\u2028b'", "'a\u2029b'", "'a\nb'", "'a\rb'", "'\\",
    "'\\u00e9\\u00E9'", '"\\U0041"')

// Surrogates: pairs, lone halves, pairs split by a line continuation.
add('"\\ud83d\\ude00"', '"\\ud83d"', '"\\ude00"', '"\\ude00\\ud83d"', '"\\ud83d\\ud83d\\ude00"',
    '"\\ud83d\\\n\\ude00"', '"\\ud83dx\\ude00"', "'\\ud800'", '{"\\ud800":1,"\\ud801":2}',
    '{"\\ud800":1,"\\ud800":2}', '{\\u0061\\ud800:1}', "'\\ud83d😀'", '"😀\\ude00"')

// Invalid UTF-8 (WHATWG: each maximal invalid subpart is one U+FFFD).
const bad = [[0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xc2], [0xc2, 0x41], [0xe0, 0x80, 0x80],
    [0xe0, 0xa0], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xef, 0xbf], [0xf0, 0x80, 0x80, 0x80],
    [0xf0, 0x90, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80], [0xfe], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xe2, 0x80], [0xe2, 0x80, 0x41], [0xf0, 0x9f, 0x98]]
for (const x of bad) {
    add(b(utf8('"'), x, utf8('"')), b(utf8("{'"), x, utf8("':1}")), b(utf8('{a'), x, utf8(':1}')),
        b(utf8('{'), x, utf8(':1}')), b(utf8('1'), x), b(x, utf8('1')), b(utf8('// '), x, utf8('\n1')),
        b(utf8('"'), x))
}

// Unquoted keys: ID_Start / ID_Continue, escapes, and what is not a letter.
add('{a:1}', '{$:1}', '{_:1}', '{$_:1,_$:2,a\u200c:3,b\u200d:4}', '{\u200c:1}', '{ùńîċõďë:9}',
    '{€:1}', '{😀:1}', '{𐀀:1}', '{a𐀀:1}', '{\u0085:1}', '{a\u0085:1}', '{\u00aa:1}', '{\u00b5:1}',
    '{\u02c1:1}', '{\u0300:1}', '{a\u0300:1}', '{a\u0660:1}', '{\u0660:1}', '{a\u00b7:1}',
    '{\u2118:1}', '{\u212e:1}', '{\u309b:1}', '{a\u1369:1}', '{a\u19da:1}', '{\u1885:1}',
    '{a\u30fb:1}', '{a\uff65:1}', '{𝒜:1}', '{a𝟎:1}', '{𠀀:1}', '{\u{2fa1d}:1}', '{\u{e0100}:1}',
    '{a\u{e0100}:1}', '{1a:1}', '{a-b:1}', '{a.b:1}', '{true:1,null:2,NaN:3,Infinity:4}',
    '{\\u0061:1}', '{\\u0061\\u0062:1,\\u0024\\u005F:2,\\u005F\\u0024:3}', '{a\\u0062:1}',
    '{\\u0031:1}', '{a\\u0031:1}', '{\\u200c:1}', '{a\\u200c:1}', '{\\x61:1}', '{\\a:1}', '{a\\:1}',
    '{\\u00e9:1}', '{\\u20ac:1}', '{a\\u0020:1}', '{\\u0024:1}', '{\\u005f:1}', '{\\u006:1}',
    '{a b:1}', '{"a" "b":1}', '{a:1 b:2}', "{'a':1}", '{"":1}', "{'':1}")

// Numbers: JS's Number() on the literal.
add('0', '-0', '+0', '0.', '.0', '-.5', '+.5', '5.', '1e3', '1E+3', '1e-3', '1.e3', '.e3', '1e', '1e+',
    '01', '00', '-01', '0x', '0x1F', '0X1f', '-0x10', '+0x10', '0x.1', '0x1p3', '0b1', '0o7', '1_0',
    '9007199254740991', '9007199254740993', '0.30000000000000004', '1.7976931348623157e308',
    '1.7976931348623159e308', '1e309', '-1e309', '4.9e-324', '2e-324', '3e-324', '1e-400',
    '2.2250738585072011e-308', '2.2250738585072012e-308', 'Infinity', '-Infinity', '+Infinity',
    'NaN', '-NaN', '+NaN', 'infinity', 'nan', '- 1', '--1', '+-1', 'Infinityx', 'NaNa', '1x', '1.2.3',
    '0x1fffffffffffff', '0x20000000000001', '0x20000000000003', '0x1FFFFFFFFFFFFF800', '0x1FFFFFFFFFFFFF801',
    '0x' + 'f'.repeat(256), '0x' + 'f'.repeat(257), '0x1' + '0'.repeat(255), '0x' + '8'.repeat(300),
    '1' + '0'.repeat(400), '0.' + '0'.repeat(400) + '1', '1'.repeat(128), '1'.repeat(129) + '.5',
    '123456789012345678901234567890123456789012345678901234567890e-30',
    '2.4703282292062327e-324', '2.4703282292062328e-324', '7.4109846876186982e-324',
    '0.' + '9'.repeat(500), '1e' + '9'.repeat(30), '1e-' + '9'.repeat(30), '[1,-0,0.0,-0.0]')

// Keywords and structure.
add('null', 'true', 'false', 'nul', 'tru', 'fals', 'nulll', 'True', 'undefined', '', ' ', '//a',
    '/a', '/*', '/* */', '/**/1', '/*/1', '/***/1', '1/**/', '1//', '1/', '[1,]', '[,1]', '[,]', '[1,,2]',
    '{a:1,}', '{,}', '{a:1,,}', '{a}', '{a:}', '{:1}', '{1:1}', '{"1":1}', '[', ']', '{', '}', '[]]',
    '{}}', '{}{}', '[][]', '1 2', '"a" "b"', "'a'\"b\"", '{"a":1 //c\n}', "{a:'1'\n/*c*/}")

// Duplicate keys and JS member order (array indices first, numerically).
add('{a:1,b:2,a:3}', '{b:1,a:2,b:{c:1},a:[1]}', '{"2":1,"1":2,"b":3,"0":4,"a":5}',
    '{"10":1,"9":2,"01":3,"1.0":4,"-1":5,"4294967294":6,"4294967295":7,"4294967296":8}',
    '{"a":1,"1":{"b":1,"0":2},"1":3}', '{"__proto__":1}', '{__proto__:{a:1}}',
    '{"__proto__":1,"__proto__":2}', '{"constructor":1,"toString":2,"hasOwnProperty":3}',
    '{"a":{"x":1},"a":{"y":2}}')
const many = []
for (let i = 0; i < 40; i++) many.push(`k${i % 13}:${i}`, `"${(i * 7) % 11}":${i}`)
add(`{${many.join(',')}}`)

// Depth: upstream's parse keeps no recursion limit.
for (const d of [127, 128, 129, 1000, 10000, 100000]) {
    add('['.repeat(d) + ']'.repeat(d), '{a:'.repeat(d) + '1' + '}'.repeat(d),
        '['.repeat(d) + ']'.repeat(d - 1))
}

// Size: 100k keys, some duplicated; long strings.
{
    const parts = []
    for (let i = 0; i < 100000; i++) parts.push(`key${i % 90000}: ${i}`)
    add(`{${parts.join(',\n')}}`)
    add(`"${'x'.repeat(300000)}"`, `'${'é'.repeat(100000)}'`)
}

export default cases
