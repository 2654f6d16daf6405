/** A running status scenario (see scenario.mjs). */
export interface Scenario {
  readonly ns: string;
  readonly config: string;
  readonly dir: string;
  stop(): Promise<void>;
}
/** VIPs this node holds in the scenario. */
export declare const HELD: readonly string[];
/** Build the scenario in `dir`; call `stop()` in afterAll. */
export declare const startScenario: (dir: string) => Promise<Scenario>;
/** The raw bytes HAProxy sends for one prompt-mode batch. */
export declare const exchange: (socket: string, text: string) => Promise<string>;
