/** The bundle's entry (scripts/build-ui.ts): global styles, every screen, then the shell. */
import './styles/global.css';
import './screens/index.ts';
import './app/mcm-app.ts';
