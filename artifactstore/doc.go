// Package artifactstore keeps built artifacts by SHA-256 where the runtime agent fetches them:
// a local directory (file://) today; s3:// and gs:// come with the cloud platforms.
package artifactstore
