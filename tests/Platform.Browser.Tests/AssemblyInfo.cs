// One browser suite at a time: each fixture runs its own Chromium and cluster, and WebApplicationFactory intercepts
// every host built in the process while it starts, so the fixtures must not start concurrently.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
