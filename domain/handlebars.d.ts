// The compiler build without Node's require-hook (lib/index.js needs `fs`, which the workflow
// sandbox forbids); same API as the package's main entry.
declare module 'handlebars/dist/cjs/handlebars' {
  import Handlebars from 'handlebars';
  export default Handlebars;
}
