/** Every screen element, registered for the shell's routes (app/routes.ts). */
import './mcm-login.ts';
import './mcm-dashboard.ts';
import './mcm-topics.ts';
import './mcm-clients.ts';
import './mcm-broker.ts';
import './mcm-mqtt-users.ts';
import './mcm-access.ts';
import './mcm-schemas.ts';
import './mcm-audit.ts';
import './mcm-security-events.ts';
import './mcm-admin-users.ts';
import './mcm-webhooks.ts';
import './mcm-import.ts';
import './mcm-account.ts';
