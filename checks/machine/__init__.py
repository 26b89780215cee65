"""Facts about this machine, collected without judging them: host and torch probes (probe), other load
(contention), torch.compile's compilers (toolchain), where torch comes from (provenance), the native loader
(loader), declared requirements against what is installed (requirements) and what the OS gives a training job
(system)."""
