"""The workspace model: the one reader of pixi manifests and locks (manifest, platforms, channels,
promise, lockfile), conda and PyPI version specs (versions) and the boundary where another team's files are
checked (untrusted). checks, the noxfile, tools and tests read workspaces through it."""
