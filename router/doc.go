// Package router decides, per execution and without allocating, whether a job runs locally or
// is offloaded, and in which order to try the regions it is deployed to.
package router
