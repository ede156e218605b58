// Entry point of the playground page served at /playground.
import './workers.js';
// GraphiQL styles without graphiql/style.css: that file repeats Monaco's CSS
// (already imported by monaco-editor's ES modules) and inlines ~360 kB of
// Roboto/Fira Code fonts; the page uses system fonts instead (style.css).
import '@graphiql/react/style.css';
import '@graphiql/plugin-doc-explorer/style.css';
import '@graphiql/plugin-history/style.css';
import 'graphiql/graphiql.css';
import './style.css';

import { createRoot } from 'react-dom/client';
import { App } from './App.jsx';

createRoot(document.getElementById('root')).render(<App />);
