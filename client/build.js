// Bundles the client for the places that load it: the widget's ES module
// (everything inlined; nothing is fetched at run time) and, for pages,
// the same client as an ES module. Outputs go to dist/.
import { build } from "esbuild";

const common = { bundle: true, format: "esm", minify: true, target: "es2020", legalComments: "none", logLevel: "warning" };
await build({ ...common, entryPoints: ["src/widget.js"], outfile: "dist/vegalake-widget.js" });
await build({ ...common, entryPoints: ["src/index.js"], outfile: "dist/vegalake-client.js" });
