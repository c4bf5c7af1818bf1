// What upstream's own inspector (the one behind `openclaw doctor` and
// `openclaw gateway status --deep`) says about the systemd user units under
// HOME: node inspect_units.mjs <openclaw dist dir> <HOME>. Prints the JSON
// list of "extra gateway services" it would flag. The bundle's file names
// change between releases, so the function is found by its name.
import { readdirSync, readFileSync } from "node:fs";

const [dist, home] = process.argv.slice(2);
let find;
for (const f of readdirSync(dist)) {
  if (!/^inspect-.*\.m?js$/.test(f)) continue;
  if (!readFileSync(`${dist}/${f}`, "utf8").includes("findExtraGatewayServices")) continue;
  const m = await import(`${dist}/${f}`);
  find = Object.values(m).find(
    (v) => typeof v === "function" && v.name === "findExtraGatewayServices",
  );
  if (find) break;
}
if (!find) {
  console.error(`no findExtraGatewayServices in ${dist}`);
  process.exit(2);
}
console.log(JSON.stringify(await find({ HOME: home }, { deep: false })));
