/**
 * @portico/adapter-sysfs reads CPU and queue topology from /sys and /proc and applies RPS, RFS
 * and XPS writes planned by @portico/core. It is an empty shell until the tuning work lands.
 */
export {};
