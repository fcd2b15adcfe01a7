/** What every command gets: the validated config, and a way to open the runtime from it. */
import type { GatewayConfig } from '../config/index.js';
import type { Runtime, RuntimeHooks } from '../runtime/index.js';

export interface CommandContext {
  /** Reads and validates the configuration (throws invalid_configuration). */
  config(): GatewayConfig;
  /** Where `gateway client` commands send requests (GATEWAY_URL, default http://127.0.0.1:8080). */
  gatewayUrl(): string;
  /** Opens store, keyring and ingestor on keys that must already exist (`gateway init`). */
  open(hooks?: RuntimeHooks): Promise<Runtime>;
}
