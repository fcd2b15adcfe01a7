/** What every command gets: the validated config, and ways to open the gateway's state from it. */
import type { GatewayConfig } from '../config/index.js';
import type { Runtime, RuntimeHooks } from '../runtime/index.js';
import type { Store } from '../store/index.js';

export interface CommandContext {
  /** Reads and validates the configuration (throws invalid_configuration). */
  config(): GatewayConfig;
  /** Where `gateway client` commands send requests (GATEWAY_URL, default http://127.0.0.1:8080). */
  gatewayUrl(): string;
  /** Opens store, keyring and ingestor on keys that must already exist (`gateway init`). */
  open(hooks?: RuntimeHooks): Promise<Runtime>;
  /**
   * Only the store, for commands that read what it holds (participants, batches): no keys, no schemas. Refuses
   * (not_found) when the data directory holds no store yet, rather than creating an empty one.
   */
  openStore(): Promise<Store>;
}
