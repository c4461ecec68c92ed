package gcpfunctions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/functions/apiv2/functionspb"
	"cloud.google.com/go/iam/admin/apiv1/adminpb"
	"cloud.google.com/go/iam/apiv1/iampb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/serverless-blueprint/blueprint/statestore/firestorestore"
)

// The managed service account: when no service_account is configured, the functions run as
// DefaultServiceAccountID@PROJECT.iam.gserviceaccount.com. Blueprint creates it on the first
// deploy, grants it only what the deployed jobs need — roles/datastore.user on the project of a
// firestore:// state store once a stateful job is deployed; nothing for stateless jobs — and
// removes it, grants first, with the delete that leaves no function of the project running
// as it.
//
// The account's description records that Blueprint made it and where it granted roles, so a
// later delete, from any configuration, can undo exactly that. Unlike Lambda's execution role
// no region bookkeeping is needed: ListFunctions over locations/- sees every function of the
// project.

// DefaultServiceAccountID is the account ID of the managed service account.
const DefaultServiceAccountID = "blueprint-functions"

// datastoreRole lets a function read and write the Firestore documents of its state.
const datastoreRole = "roles/datastore.user"

// Tags kept in the managed account's description.
const (
	tagManaged = "blueprint:managed"
	tagGranted = "blueprint:granted" // projects granted datastoreRole, space-separated
)

// accountPropagation bounds how long a new account may stay unknown to the other APIs: IAM is
// eventually consistent, and for some seconds after CreateServiceAccount, functions and IAM
// policies naming the account are refused as naming one that does not exist.
const accountPropagation = 90 * time.Second

func (d *Deployer) managedAccount() bool { return d.cfg.ServiceAccount == "" }

func (d *Deployer) accountEmail() string {
	if !d.managedAccount() {
		return d.cfg.ServiceAccount
	}
	return d.cfg.ServiceAccountID + "@" + d.cfg.Project + ".iam.gserviceaccount.com"
}

func (d *Deployer) accountName() string {
	return "projects/" + d.cfg.Project + "/serviceAccounts/" + d.accountEmail()
}

// ensureAccount makes sure the managed account exists (the user's is theirs) and returns the
// email the functions run as. It reads the account on every deploy (concurrent deploys share
// one read): another configuration's destroy may have removed it since.
func (d *Deployer) ensureAccount(ctx context.Context) (string, error) {
	email := d.accountEmail()
	if !d.managedAccount() {
		return email, nil
	}
	_, err, _ := d.flights.Do("account", func() (any, error) {
		sa, err := d.readAccount(ctx)
		switch {
		case status.Code(err) == codes.NotFound:
			sa, err = d.iam.CreateServiceAccount(ctx, &adminpb.CreateServiceAccountRequest{
				Name: "projects/" + d.cfg.Project, AccountId: d.cfg.ServiceAccountID,
				ServiceAccount: &adminpb.ServiceAccount{DisplayName: "Blueprint functions",
					Description: description(map[string]string{tagManaged: "true"})},
			})
			if status.Code(err) == codes.AlreadyExists { // another apply created it meanwhile
				sa, err = d.readAccount(ctx)
			} else if err == nil {
				d.mu.Lock()
				d.accountCreated = time.Now()
				d.mu.Unlock()
			}
			if err != nil {
				return nil, fmt.Errorf("creating service account %s (the credentials need roles/iam.serviceAccountAdmin, or set service_account to an existing account): %w", email, err)
			}
		case err != nil:
			return nil, fmt.Errorf("reading service account %s (the credentials need roles/iam.serviceAccountAdmin, or set service_account to an existing account): %w", email, err)
		}
		if tagsIn(sa.GetDescription())[tagManaged] != "true" {
			return nil, fmt.Errorf("service account %s exists but was not created by Blueprint, which would grant it roles: set service_account = %q to run the functions as it unchanged, or delete it", email, email)
		}
		if sa.GetDisabled() {
			return nil, fmt.Errorf("service account %s is disabled: enable it (gcloud iam service-accounts enable %s)", email, email)
		}
		d.mu.Lock()
		if d.accountUID != sa.GetUniqueId() { // a new account holds none of the old one's grants
			d.accountUID = sa.GetUniqueId()
			clear(d.granted)
		}
		d.mu.Unlock()
		return nil, nil
	})
	return email, err
}

func (d *Deployer) readAccount(ctx context.Context) (*adminpb.ServiceAccount, error) {
	var sa *adminpb.ServiceAccount
	err := retryTransient(ctx, func() error {
		var err error
		sa, err = d.iam.GetServiceAccount(ctx, &adminpb.GetServiceAccountRequest{Name: d.accountName()})
		return err
	})
	return sa, err
}

// grantStateAccess gives the managed account roles/datastore.user on the project of a
// firestore:// state store (the user grants their own account what it needs). The grant is
// recorded on the account before it is made, so a delete can always find and undo it.
func (d *Deployer) grantStateAccess(ctx context.Context, storeURL string) error {
	if !d.managedAccount() || !firestorestore.IsURL(storeURL) {
		return nil
	}
	loc, err := firestorestore.ParseURL(storeURL)
	if err != nil {
		return err
	}
	d.mu.Lock()
	done := d.granted[loc.Project]
	d.mu.Unlock()
	if done {
		return nil
	}
	_, err, _ = d.flights.Do("grant "+loc.Project, func() (any, error) {
		if err := d.recordGrant(ctx, loc.Project); err != nil {
			return nil, err
		}
		member := "serviceAccount:" + d.accountEmail()
		err := d.retryNewAccount(ctx, func() error {
			return d.editProjectPolicy(ctx, loc.Project, func(p *iampb.Policy) bool { return addMember(p, datastoreRole, member) })
		})
		if err != nil {
			return nil, fmt.Errorf("granting %s %s on project %s, for the Firestore state store (the credentials need roles/resourcemanager.projectIamAdmin there, or set service_account to an account that has the role): %w",
				d.accountEmail(), datastoreRole, loc.Project, err)
		}
		d.mu.Lock()
		d.granted[loc.Project] = true
		d.mu.Unlock()
		return nil, nil
	})
	return err
}

// recordGrant adds a project to the account's blueprint:granted tag.
func (d *Deployer) recordGrant(ctx context.Context, project string) error {
	sa, err := d.readAccount(ctx)
	if err != nil {
		return fmt.Errorf("reading service account %s: %w", d.accountEmail(), err)
	}
	tags := tagsIn(sa.GetDescription())
	projects := strings.Fields(tags[tagGranted])
	if slices.Contains(projects, project) {
		return nil
	}
	tags[tagGranted] = strings.Join(append(projects, project), " ")
	sa.Description = description(tags)
	if len(sa.Description) > 256 {
		return fmt.Errorf("service account %s cannot record one more project with a state store (its description holds 256 bytes): keep the stores in fewer projects, or set service_account", d.accountEmail())
	}
	return retryTransient(ctx, func() error {
		_, err := d.iam.PatchServiceAccount(ctx, &adminpb.PatchServiceAccountRequest{ServiceAccount: sa,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}})
		if err != nil {
			return fmt.Errorf("recording a grant on service account %s: %w", d.accountEmail(), err)
		}
		return nil
	})
}

// editProjectPolicy is a read-modify-write of a project's IAM policy; edit reports whether it
// changed anything. A concurrent change (ABORTED on the etag) retries the whole cycle.
func (d *Deployer) editProjectPolicy(ctx context.Context, project string, edit func(*iampb.Policy) bool) error {
	resource := "projects/" + project
	return retryTransient(ctx, func() error {
		policy, err := d.projects.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: resource})
		if err != nil {
			return err
		}
		if !edit(policy) {
			return nil
		}
		_, err = d.projects.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: resource, Policy: policy})
		return err
	})
}

// addMember adds member to role's unconditional binding; it reports whether it was missing.
func addMember(p *iampb.Policy, role, member string) bool {
	for _, b := range p.GetBindings() {
		if b.GetRole() == role && b.GetCondition() == nil {
			if slices.Contains(b.Members, member) {
				return false
			}
			b.Members = append(b.Members, member)
			return true
		}
	}
	p.Bindings = append(p.Bindings, &iampb.Binding{Role: role, Members: []string{member}})
	return true
}

// removeMember takes member out of role's unconditional binding; it reports whether it was
// there.
func removeMember(p *iampb.Policy, role, member string) bool {
	for i, b := range p.GetBindings() {
		if b.GetRole() != role || b.GetCondition() != nil || !slices.Contains(b.Members, member) {
			continue
		}
		b.Members = slices.DeleteFunc(b.Members, func(m string) bool { return m == member })
		if len(b.Members) == 0 {
			p.Bindings = slices.Delete(p.Bindings, i, i+1)
		}
		return true
	}
	return false
}

// retryNewAccount retries call while the API still says a just-created managed account does
// not exist (IAM's propagation delay), then as retryTransient does.
func (d *Deployer) retryNewAccount(ctx context.Context, call func() error) error {
	d.mu.Lock()
	created := d.accountCreated
	d.mu.Unlock()
	delay := 500 * time.Millisecond
	for {
		err := retryTransient(ctx, call)
		if err == nil || created.IsZero() || time.Since(created) > accountPropagation || !namesMissingAccount(err, d.accountEmail()) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (the new service account was still unknown: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func namesMissingAccount(err error, email string) bool {
	s, ok := status.FromError(err)
	return ok && (s.Code() == codes.InvalidArgument || s.Code() == codes.NotFound) &&
		strings.Contains(s.Message(), email) && strings.Contains(s.Message(), "does not exist")
}

// removeAccountIfUnused deletes the managed account, after taking back the roles it was
// granted, once no function of the project runs as it. Deploys of this deployer wait
// meanwhile (d.accountUse), so none creates a function with an account being removed.
func (d *Deployer) removeAccountIfUnused(ctx context.Context) error {
	if !d.managedAccount() {
		return nil // the user's account is theirs
	}
	d.accountUse.Lock()
	defer d.accountUse.Unlock()
	sa, err := d.readAccount(ctx)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading service account %s: %w", d.accountEmail(), err)
	}
	tags := tagsIn(sa.GetDescription())
	if tags[tagManaged] != "true" {
		return nil
	}
	if inUse, err := d.accountInUse(ctx); err != nil || inUse {
		return err
	}
	member := "serviceAccount:" + d.accountEmail()
	for _, project := range strings.Fields(tags[tagGranted]) {
		err := d.editProjectPolicy(ctx, project, func(p *iampb.Policy) bool { return removeMember(p, datastoreRole, member) })
		if err != nil {
			return fmt.Errorf("taking %s back from %s on project %s, which no function uses any more: %w", datastoreRole, d.accountEmail(), project, err)
		}
	}
	err = retryTransient(ctx, func() error {
		return d.iam.DeleteServiceAccount(ctx, &adminpb.DeleteServiceAccountRequest{Name: d.accountName()})
	})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("deleting service account %s, which no function uses any more: %w", d.accountEmail(), err)
	}
	d.mu.Lock()
	d.accountUID, d.accountCreated = "", time.Time{}
	clear(d.granted)
	d.mu.Unlock()
	return nil
}

// accountInUse reports whether any function of the project, in any region, runs as the
// managed account. A region the API could not reach counts as using it.
func (d *Deployer) accountInUse(ctx context.Context) (bool, error) {
	email := d.accountEmail()
	it := d.client.ListFunctions(ctx, &functionspb.ListFunctionsRequest{Parent: "projects/" + d.cfg.Project + "/locations/-"})
	for {
		fn, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return false, fmt.Errorf("listing the project's Cloud Functions to see whether service account %s is still used: %w", email, err)
		}
		if fn.GetServiceConfig().GetServiceAccountEmail() == email {
			return true, nil
		}
	}
	if resp, ok := it.Response.(*functionspb.ListFunctionsResponse); ok && len(resp.GetUnreachable()) > 0 {
		return true, nil
	}
	return false, nil
}
