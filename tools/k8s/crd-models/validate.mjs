// Validate prometheus-operator objects (PodMonitor, ServiceMonitor, PrometheusRule) against the operator's
// CRD schemas, compiled by @kubernetes-models/prometheus-operator. Reads a JSON array of objects on stdin;
// prints one line per invalid object and exits 1 if any, 2 on an unknown kind.
// Limit: CRD schemas do not forbid unknown fields (the API server prunes them), so a misspelt optional field
// passes here; types, enums and required fields are checked.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

// Run with the install directory (.cache/k8s-tools/crd-models) as the working directory.
const pkg = join(process.cwd(), "node_modules", "@kubernetes-models", "prometheus-operator");
const models = Object.fromEntries(await Promise.all(["PodMonitor", "ServiceMonitor", "PrometheusRule"].map(
  async (kind) => [kind, (await import(pathToFileURL(join(pkg, "monitoring.coreos.com", "v1", `${kind}.js`))))[kind]])));
const docs = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const doc of docs) {
  const Model = models[doc.kind];
  const where = `${doc.kind}/${doc.metadata?.name}`;
  if (doc.apiVersion !== "monitoring.coreos.com/v1" || !Model) {
    console.log(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
    process.exit(2);
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    failed += 1;
    console.log(`${where}: ${e.message}`);
  }
}
console.log(`${docs.length - failed} valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
