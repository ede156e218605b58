// Monaco (the editor inside GraphiQL 5) runs language services in web workers.
// Vite's `?worker` imports bundle each worker into its own file under
// /playground/assets/, so workers load from the same origin — never from a CDN
// (GraphiQL's `setup-workers/esm.sh` variant would fetch from esm.sh).
import JsonWorker from 'monaco-editor/esm/vs/language/json/json.worker.js?worker';
import GraphQLWorker from 'monaco-graphql/esm/graphql.worker.js?worker';
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker';

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    switch (label) {
      case 'json':
        return new JsonWorker();
      case 'graphql':
        return new GraphQLWorker();
      default:
        return new EditorWorker();
    }
  },
};
