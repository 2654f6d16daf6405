/** CONFIG_API_VERSION: the API version a config must declare. */
export const CONFIG_API_VERSION = "portico.dev/v1alpha1";

/** CONFIG_KIND: the kind a config must declare. */
export const CONFIG_KIND = "PorticoConfig";
