// Runs a Python module of this repository inside Pyodide under Node.js:
//   node run_in_pyodide.js PYODIDE_DIR REPO_ROOT MODULE
// The repository is mounted at /repo and put on sys.path; the module's
// output goes to stdout. Exit code 2 when Pyodide or numpy cannot load.
const path = require("path");

async function main() {
  const [pyodideDir, repoRoot, module] = process.argv.slice(2).map((arg, i) => (i < 2 ? path.resolve(arg) : arg));
  const { loadPyodide } = require(path.join(pyodideDir, "pyodide.js"));
  const pyodide = await loadPyodide({ indexURL: pyodideDir + "/", stdout: (line) => console.log(line) });
  const failed = [];
  await pyodide.loadPackage("numpy", { errorCallback: (message) => failed.push(message), messageCallback: () => {} });
  if (failed.length) {
    console.error("numpy did not load: " + failed.join("; "));
    process.exit(2);
  }
  pyodide.FS.mkdirTree("/repo");
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: repoRoot }, "/repo");
  await pyodide.runPythonAsync(`
import runpy, sys
sys.path.insert(0, "/repo")
sys.dont_write_bytecode = True
runpy.run_module(${JSON.stringify(module)}, run_name="__main__")
`);
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
