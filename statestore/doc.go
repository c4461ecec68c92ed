// Package statestore holds the state of stateful jobs (job.State) outside every process that
// runs them: an embedded SQLite file by default, shared by the agent and the hosts of a machine;
// DynamoDB and Firestore come with the cloud platforms. One contract suite (storetest) for all.
package statestore
