export { main } from "./main.js";
export { processIo, type Io } from "./io.js";
export { decodeDocuments, loadCluster, loadConfig, type InputError } from "./load.js";
export { statusReport, summarise, type StatusReport, type Summary } from "./status-report.js";
export { formatPlan } from "./format.js";
export { progress, type Progress } from "./progress.js";
