"""The Jiesu engine: deployments, ticket instances, tasks and the audit trail, with no web code."""
