// The measuring half of scripts/bench-config (see there).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [n, prefix, build] = [Number(process.argv[2]), process.argv[3], process.argv[4]]
const dist = path.join(prefix, 'node_modules/openclaw/dist')
const compat = fs.readdirSync(dist).find((f) => /^parse-json-compat-.*\.mjs$/.test(f))
const { t: parse } = await import(pathToFileURL(path.join(dist, compat)))
const version = JSON.parse(fs.readFileSync(path.join(prefix, 'node_modules/openclaw/package.json'))).version

const MiB = 1 << 20
function json5Config () { // what a large hand-written config looks like
    const parts = ['// generated for scripts/bench-config\n{\n  gateway: { port: 18789, mode: "local", bind: "loopback" },\n  agents: {\n']
    let size = parts[0].length
    for (let i = 0; size < MiB - 400; i++) {
        const p = `    agent_${i}: { // agent ${i}\n      workspace: '/srv/ws/${i}', model: "m-${i % 7}", limits: [1, 2.5, 0x10, -3e2], enabled: true, },\n`
        parts.push(p)
        size += p.length
    }
    parts.push('  },\n}\n')
    return parts.join('')
}
function manyKeys () {
    const parts = []
    for (let i = 0; i < 100000; i++) parts.push(`k${i.toString(36)}:${i % 10}`)
    return `{gateway: {port: 18789}, x: {${parts.join(',')}}}\n`
}
function strictJson () {
    const o = { gateway: { port: 18789 }, agents: {} }
    for (let i = 0; i % 500 || JSON.stringify(o, null, 1).length < MiB - 100000; i++) o.agents[`agent_${i}`] = { workspace: `/srv/ws/${i}`, limits: [1, 2.5, 16], enabled: true }
    return JSON.stringify(o, null, 1)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-config-'))
try {
    console.log(`scripts/bench-config ${n}: ${os.cpus().length} CPUs, ${os.type()} ${os.release()}, node ${process.version}, openclaw ${version}`)
    console.log('| input | size | ours: parse (median) | gateway: parse (median) | ours / gateway (median of per-iteration ratios) | `openclaw-run check` (median wall) |')
    console.log('|---|---|---|---|---|---|')
    for (const [name, text] of [['1 MiB JSON5 config', json5Config()], ['100k keys', manyKeys()], ['1 MiB strict JSON', strictJson()]]) {
        const home = path.join(tmp, name.replace(/\W+/g, '-'))
        const file = path.join(home, '.openclaw/openclaw.json')
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.writeFileSync(file, text)
        const ours = []
        const theirs = []
        const ratios = []
        const checks = []
        for (let i = 0; i < n; i++) {
            const r = spawnSync(path.join(build, 'tests/json5_dump'), ['--time', file, '1'], { encoding: 'utf8' })
            if (r.status !== 0) throw new Error(`json5_dump: ${r.stderr}`)
            const a = Number(r.stdout.trim()) / 1e6
            const buf = fs.readFileSync(file)
            const t0 = performance.now()
            parse(buf.toString('utf8'))
            const b = performance.now() - t0
            const c0 = performance.now()
            const c = spawnSync(path.join(build, 'openclaw-run'), ['check'], { env: { HOME: home, PATH: process.env.PATH } })
            checks.push(performance.now() - c0)
            if (i === 0 && c.status > 1) throw new Error(`check: ${c.stderr}`)
            ours.push(a)
            theirs.push(b)
            ratios.push(a / b)
        }
        const ms = (x) => `${x.toFixed(2)} ms`
        console.log(`| ${name} | ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB | ${ms(median(ours))} | ${ms(median(theirs))} | ${median(ratios).toFixed(2)} | ${ms(median(checks))} |`)
    }
} finally {
    fs.rmSync(tmp, { recursive: true, force: true })
}
