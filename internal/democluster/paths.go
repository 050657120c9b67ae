package democluster

// KubeconfigPath is the admin kubeconfig of the running cluster, for processes that join
// it (the demo's controller).
func (c *Cluster) KubeconfigPath() string { return c.base.KubeconfigPath() }

// Dir is the folder with the cluster's configuration and its processes' logs.
func (c *Cluster) Dir() string { return c.dir }

// AuditLogPath is the API server's audit log (testcluster.Cluster.AuditLogPath).
func (c *Cluster) AuditLogPath() string { return c.base.AuditLogPath() }
