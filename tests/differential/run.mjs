// Differential test: our JSON5 reader (json5_dump, C) against the gateway's
// own parse function (openclaw's dist/parse-json-compat-*.mjs: JSON.parse,
// falling back to json5 2.2.3), both fed the same bytes, the gateway's side
// decoding them as readFileSync(path, "utf-8") does. Any disagreement fails,
// with the input shown.
//   node run.mjs --dump BUILD/json5_dump [--prefix /opt/openclaw-run] [--random N] [--seed S]
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

import handCases from './cases.mjs'
import { generate } from './generate.mjs'
import { urlCases } from './urls.mjs'
import { includeCases } from './includes.mjs'

console.warn = () => {} // json5 warns about U+2028 in strings
const here = path.dirname(fileURLToPath(import.meta.url))
const args = { prefix: process.env.OPENCLAW_RUN_PREFIX || '/opt/openclaw-run', random: 3000, seed: 8 }
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1]

const dist = path.join(args.prefix, 'node_modules/openclaw/dist')
const compat = fs.readdirSync(dist).find((f) => /^parse-json-compat-.*\.mjs$/.test(f))
if (!compat) throw new Error(`no parse-json-compat-*.mjs in ${dist}`)
const { t: upstreamParse } = await import(pathToFileURL(path.join(dist, compat)))
const json5 = createRequire(path.join(dist, compat))('json5')
const inDist = (re) => pathToFileURL(path.join(dist, fs.readdirSync(dist).find((f) => re.test(f))))
const { t: parseBrowserHttpUrl } = await import(inDist(/^browser-cdp-.*\.mjs$/))
const { s: isLoopbackHost } = await import(inDist(/^net-[A-Za-z0-9_-]+\.mjs$/))
const { l: resolveConfigIncludes } = await import(inDist(/^includes-[A-Za-z0-9_-]+\.mjs$/))
const { X: resolveConfigEnvVars } = await import(inDist(/^redact-[A-Za-z0-9_-]+\.mjs$/))

// --- the canonical form both sides print (see json5_dump.c) ---------------
const f64 = new DataView(new ArrayBuffer(8))
function num (v) {
    if (Number.isNaN(v)) return 'NaN'
    f64.setFloat64(0, v)
    return '0x' + f64.getBigUint64(0).toString(16).padStart(16, '0')
}
function str (s) {
    let out = '"'
    for (let i = 0; i < s.length; i++) {
        const u = s.charCodeAt(i)
        out += u >= 0x20 && u < 0x7f && u !== 0x22 && u !== 0x5c ? s[i] : '\\u' + u.toString(16).padStart(4, '0')
    }
    return out + '"'
}
function canon (root) {
    const out = []
    const stack = [{ v: root }]
    while (stack.length) {
        const it = stack.pop()
        if (typeof it === 'string') { out.push(it); continue }
        const v = it.v
        if (v === null) out.push('null')
        else if (typeof v === 'boolean') out.push(String(v))
        else if (typeof v === 'number') out.push(num(v))
        else if (typeof v === 'string') out.push(str(v))
        else if (Array.isArray(v)) {
            out.push('[')
            stack.push(']')
            for (let i = v.length - 1; i >= 0; i--) {
                stack.push({ v: v[i] })
                if (i > 0) stack.push(',')
            }
        } else {
            const keys = Object.keys(v)
            out.push('{')
            stack.push('}')
            for (let i = keys.length - 1; i >= 0; i--) {
                stack.push({ v: v[keys[i]] })
                stack.push(str(keys[i]) + ':')
                if (i > 0) stack.push(',')
            }
        }
    }
    return out.join('')
}

// --- the corpus ----------------------------------------------------------
function* walk (dir) {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
        const p = path.join(dir, e.name)
        if (e.isDirectory()) yield* walk(p)
        else if (!/^(LICENSE\.md|SOURCE)$/.test(e.name)) yield p
    }
}

// json5 2.2.3's own tests, run with stubs that collect every parsed text.
function json5TestInputs () {
    const texts = []
    const any = new Proxy(function () {}, { get: () => any, apply: () => any })
    const t = new Proxy({}, {
        get: (_, k) => k === 'test' ? (name, fn) => fn && fn(t)
            : k === 'throws' ? (fn) => { try { fn() } catch {} }
                : () => {},
    })
    const lib = { ...json5, parse: (text, reviver) => { texts.push(String(text)); return json5.parse(text, reviver) } }
    const stubs = { tap: t, assert: any, sinon: any, '../lib': lib, '../lib/': lib }
    for (const f of ['parse.js', 'errors.js']) {
        const src = fs.readFileSync(path.join(here, 'json5-2.2.3', f), 'utf8')
        // eslint-disable-next-line no-new-func
        new Function('require', 'module', 'exports', src)((m) => stubs[m] ?? any, {}, {})
    }
    return texts
}

const corpus = []
for (const f of walk(path.join(here, 'json5-tests'))) corpus.push({ name: path.relative(here, f), bytes: fs.readFileSync(f) })
json5TestInputs().forEach((s, i) => corpus.push({ name: `json5-2.2.3 test input ${i}`, bytes: Buffer.from(s, 'utf8') }))
handCases.forEach((c, i) => corpus.push({ name: `cases.mjs #${i}`, bytes: Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8') }))
generate(Number(args.seed), Number(args.random)).forEach((bytes, i) => corpus.push({ name: `generated #${i} (seed ${args.seed})`, bytes }))

// --- both sides ------------------------------------------------------------
function runDump (dumpArgs, cases) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'json5-diff-'))
    try {
        const pack = path.join(tmp, 'cases')
        const fd = fs.openSync(pack, 'w')
        for (const c of cases) {
            fs.writeSync(fd, `${c.length}\n`)
            fs.writeSync(fd, c)
        }
        fs.closeSync(fd)
        const r = spawnSync(args.dump, [...dumpArgs, pack], { maxBuffer: 1 << 30, encoding: 'latin1' })
        if (r.status !== 0) throw new Error(`${args.dump} exited ${r.status}: ${r.stderr}`)
        return r.stdout.split('\n')
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true })
    }
}
const ours = runDump([], corpus.map((c) => c.bytes))

const show = (b) => b.length > 300 ? `${b.length} bytes, starting ${JSON.stringify(b.subarray(0, 120).toString('latin1'))}` : `${JSON.stringify(b.toString('latin1'))} (hex ${b.toString('hex')})`
const cut = (s) => s.length > 300 ? s.slice(0, 300) + '...' : s
let bad = 0
corpus.forEach((c, i) => {
    let theirs
    try {
        theirs = canon(upstreamParse(c.bytes.toString('utf8')))
    } catch {
        theirs = 'ERROR'
    }
    if (theirs !== ours[i]) {
        if (++bad <= 25) console.log(`DISAGREE ${c.name}: input ${show(c.bytes)}\n  gateway: ${cut(theirs)}\n  ours:    ${cut(ours[i] ?? '(no output)')}`)
    }
})
console.log(`${corpus.length} inputs, ${bad} disagreements (json5-tests files, json5 2.2.3 test inputs, ${handCases.length} hand-written cases, ${args.random} generated with seed ${args.seed})`)

// CDP URLs: the port browser.cdpUrl takes on this host, as the gateway decides.
const urls = urlCases(Number(args.random), Number(args.seed))
const oursUrl = runDump(['--cdp'], urls.map((u) => Buffer.from(u, 'utf8')))
let badUrl = 0
urls.forEach((u, i) => {
    let theirs
    try {
        const p = parseBrowserHttpUrl(u, 'browser.cdpUrl')
        theirs = isLoopbackHost(p.parsed.hostname) ? `local ${p.port}` : 'remote'
    } catch {
        theirs = 'invalid'
    }
    if (theirs !== oursUrl[i] && ++badUrl <= 25) console.log(`DISAGREE cdpUrl ${JSON.stringify(u)}\n  gateway: ${theirs}\n  ours:    ${oursUrl[i]}`)
})
console.log(`${urls.length} CDP URLs, ${badUrl} disagreements`)

// $include: each layout in a fresh directory, read by config_load and by
// upstream's parse + resolveConfigIncludes (the sandbox sets no include roots).
const incDir = fs.mkdtempSync(path.join(os.tmpdir(), 'json5-diff-inc-'))
let badInc = 0
try {
    const mains = includeCases.map((files, i) => {
        const dir = path.join(incDir, String(i))
        for (const [name, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
            fs.writeFileSync(path.join(dir, name), text)
        }
        return path.join(dir, 'main.json5')
    })
    const r = spawnSync(args.dump, ['--config', ...mains], { encoding: 'latin1' })
    if (r.status !== 0) throw new Error(`${args.dump} --config exited ${r.status}: ${r.stderr}`)
    const oursInc = r.stdout.split('\n')
    mains.forEach((main, i) => {
        let theirs
        try {
            const v = resolveConfigIncludes(upstreamParse(fs.readFileSync(main, 'utf-8')), main)
            theirs = v !== null && typeof v === 'object' && !Array.isArray(v) ? canon(v) : 'ERROR'
        } catch {
            theirs = 'ERROR'
        }
        if (theirs !== oursInc[i] && ++badInc <= 25) console.log(`DISAGREE $include layout ${i}: ${JSON.stringify(includeCases[i])}\n  gateway: ${cut(theirs)}\n  ours:    ${cut(oursInc[i])}`)
    })
} finally {
    fs.rmSync(incDir, { recursive: true, force: true })
}
console.log(`${includeCases.length} $include layouts, ${badInc} disagreements`)
// ${VAR}: strings made of the tokens that matter, substituted from one env.
const env = { HOME: '/h', A: 'x', EMPTY: '', B_1: '$${A}', LOW: 'l', _: 'u' }
const envCases = []
{
    let a = Number(args.seed) >>> 0
    const r = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
    const tokens = ['$', '$', '{', '}', 'A', 'B_1', 'EMPTY', 'LOW', 'low', 'HOME', '_', '0', 'x', '/', 'é', 'UNSET', '$$', '${', '}}']
    for (const s of ['${HOME}/ws', '$${HOME}', '$$${A}', '${A}${A}', '${}', '${a}', '${0A}', '${A', '$A', '${EMPTY}', '${B_1}', '${UNSET}/x', '${_}', '${A_}', '$${lower}'])
        envCases.push(JSON.stringify({ s, k: [s, { n: s }] }))
    for (let i = 0; i < Number(args.random); i++) {
        let s = ''
        for (let n = Math.floor(r() * 8); n > 0; n--) s += tokens[Math.floor(r() * tokens.length)]
        envCases.push(JSON.stringify({ [s]: s, a: [s] }))
    }
}
const oursEnv = runDump(['--env'], envCases.map((c) => Buffer.from(c, 'utf8')))
let badEnv = 0
envCases.forEach((c, i) => {
    let theirs
    try {
        theirs = canon(resolveConfigEnvVars(upstreamParse(c), env, { onMissing: () => {} }))
    } catch {
        theirs = 'ERROR'
    }
    if (theirs !== oursEnv[i] && ++badEnv <= 25) console.log(`DISAGREE \${VAR} ${c}\n  gateway: ${cut(theirs)}\n  ours:    ${cut(oursEnv[i])}`)
})
console.log(`${envCases.length} \${VAR} documents, ${badEnv} disagreements`)
process.exit(bad || badUrl || badInc || badEnv ? 1 : 0)
