// Package platform defines what every serverless platform provides: a Deployer that puts a built
// job into a region and an Invoker that runs it there. Implementations live in subpackages.
package platform
