// Package adversary attacks the real API binary from outside, as a skilled
// adversary and an unlucky operator would: it builds cmd/api once per test
// run, starts it as a child process on a free port with a temporary data
// directory, and talks to it only over HTTP and graphql-transport-ws. It
// kills the process with SIGKILL at random moments of start-up and under
// load, restarts it, and checks that nothing acknowledged was lost, and it
// replays each failure of the adversarial review (issue 16) as a test of the
// fixed behaviour, so a regression shows up as a failing test.
//
// The embedded cases need no server. The distributed cases run on the test
// run's Cassandra and Redis (MESSENGER_CASSANDRA_HOSTS and
// MESSENGER_REDIS_ADDRS), each in a fresh keyspace with random users, and
// skip when those variables are unset. The package has no non-test code
// besides this comment.
package adversary
