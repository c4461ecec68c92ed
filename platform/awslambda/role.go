package awslambda

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// The managed execution role: created on first deploy when no role is configured, removed by
// the delete that leaves it unused.
//
// IAM is global while functions are regional, and another configuration may deploy to other
// regions with the same role. So the role records, in its blueprint:regions tag, every region
// a deploy ever used it in (before the deploy creates anything there), and is removed only when
// all of those regions are this deployer's and none of their functions uses it any more.

// trustPolicy lets only the Lambda service assume the execution role.
const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// logsPolicy is all a stateless job's function needs: writing its own logs.
const logsPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}`

// Tags of the managed role.
const (
	tagManaged = "blueprint:managed"
	tagRegions = "blueprint:regions" // regions a deploy used the role in, space-separated
)

// ensureRole returns the execution role's ARN, creating the managed role (trust policy for
// lambda.amazonaws.com only, a logs-only inline policy) on first use and recording this
// deployer's regions on it.
func (d *Deployer) ensureRole(ctx context.Context) (string, error) {
	d.mu.Lock()
	arn := d.roleARN
	d.mu.Unlock()
	if arn != "" {
		return arn, nil
	}
	v, err, _ := d.roles.Do("role", func() (any, error) {
		name := aws.String(d.cfg.RoleName)
		got, err := d.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: name})
		var missing *iamtypes.NoSuchEntityException
		var role *iamtypes.Role
		switch {
		case err == nil:
			role = got.Role
		case errors.As(err, &missing):
			created, err := d.iam.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName: name, AssumeRolePolicyDocument: aws.String(trustPolicy),
				Description: aws.String("Execution role of the Lambda functions Blueprint deploys"),
				Tags: []iamtypes.Tag{{Key: aws.String(tagManaged), Value: aws.String("true")},
					{Key: aws.String(tagRegions), Value: aws.String(strings.Join(slices.Sorted(slices.Values(d.cfg.Regions)), " "))}},
			})
			var exists *iamtypes.EntityAlreadyExistsException
			if errors.As(err, &exists) { // another apply created it meanwhile
				if got, err = d.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: name}); err != nil {
					return "", fmt.Errorf("reading IAM role %s: %w", d.cfg.RoleName, err)
				}
				role = got.Role
			} else if err != nil {
				return "", fmt.Errorf("creating IAM role %s (the credentials need iam:CreateRole, or set role to an existing execution role): %w", d.cfg.RoleName, err)
			} else {
				role = created.Role
			}
		default:
			return "", fmt.Errorf("reading IAM role %s (the credentials need iam:GetRole, or set role to an existing execution role): %w", d.cfg.RoleName, err)
		}
		if err := d.recordRegions(ctx, role); err != nil {
			return "", err
		}
		if _, err := d.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name,
			PolicyName: aws.String("blueprint-logs"), PolicyDocument: aws.String(logsPolicy)}); err != nil {
			return "", fmt.Errorf("setting the policy of IAM role %s: %w", d.cfg.RoleName, err)
		}
		arn := aws.ToString(role.Arn)
		d.mu.Lock()
		d.roleARN = arn
		d.mu.Unlock()
		return arn, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// recordRegions adds this deployer's regions to the role's blueprint:regions tag, so no other
// deployer removes the role while functions here use it. (GetRole does not return tags on
// every implementation; ListRoleTags does.)
func (d *Deployer) recordRegions(ctx context.Context, role *iamtypes.Role) error {
	tags, err := d.iam.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: role.RoleName})
	if err != nil {
		return fmt.Errorf("reading the tags of IAM role %s (the credentials need iam:ListRoleTags): %w", d.cfg.RoleName, err)
	}
	recorded := roleRegions(tags.Tags)
	want := slices.Sorted(slices.Values(append(slices.Clone(recorded), d.cfg.Regions...)))
	want = slices.Compact(want)
	if slices.Equal(want, recorded) {
		return nil
	}
	if _, err := d.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: role.RoleName,
		Tags: []iamtypes.Tag{{Key: aws.String(tagRegions), Value: aws.String(strings.Join(want, " "))}}}); err != nil {
		return fmt.Errorf("recording regions on IAM role %s (the credentials need iam:TagRole): %w", d.cfg.RoleName, err)
	}
	return nil
}

func roleRegions(tags []iamtypes.Tag) []string {
	for _, t := range tags {
		if aws.ToString(t.Key) == tagRegions {
			return slices.Sorted(slices.Values(strings.Fields(aws.ToString(t.Value))))
		}
	}
	return nil
}

// removeRoleIfUnused deletes the managed role (and its inline policies) when it is tagged as
// Blueprint's, every region it was used in is one of this deployer's, and no function in
// those regions uses it. Deploys of this deployer wait meanwhile (d.roleUse), so none creates
// a function with a role being removed.
func (d *Deployer) removeRoleIfUnused(ctx context.Context) error {
	if d.cfg.Role != "" {
		return nil // the user's role is theirs
	}
	d.roleUse.Lock()
	defer d.roleUse.Unlock()
	name := aws.String(d.cfg.RoleName)
	got, err := d.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: name})
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading IAM role %s: %w", d.cfg.RoleName, err)
	}
	tags, err := d.iam.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: name})
	if err != nil {
		return fmt.Errorf("reading the tags of IAM role %s: %w", d.cfg.RoleName, err)
	}
	managed := slices.ContainsFunc(tags.Tags, func(t iamtypes.Tag) bool {
		return aws.ToString(t.Key) == tagManaged && aws.ToString(t.Value) == "true"
	})
	if !managed {
		return nil
	}
	arn := aws.ToString(got.Role.Arn)
	for _, region := range roleRegions(tags.Tags) {
		c, ok := d.lambdas[region]
		if !ok {
			return nil // used in a region this deployer cannot see: keep it
		}
		inUse, err := roleUsedIn(ctx, c, arn)
		if err != nil || inUse {
			return err
		}
	}
	policies, err := d.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
	if err != nil {
		return fmt.Errorf("listing the policies of IAM role %s: %w", d.cfg.RoleName, err)
	}
	for _, p := range policies.PolicyNames {
		if _, err := d.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil && !errors.As(err, &missing) {
			return fmt.Errorf("deleting policy %s of IAM role %s: %w", p, d.cfg.RoleName, err)
		}
	}
	if _, err := d.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("deleting IAM role %s, which no function uses any more: %w", d.cfg.RoleName, err)
	}
	d.mu.Lock()
	d.roleARN = "" // a later deploy creates it again
	d.mu.Unlock()
	return nil
}

// roleUsedIn reports whether any function of the region runs with the role.
func roleUsedIn(ctx context.Context, c *lambda.Client, arn string) (bool, error) {
	pages := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("listing Lambda functions to see whether role %s is still used: %w", arn, err)
		}
		for _, f := range page.Functions {
			if aws.ToString(f.Role) == arn {
				return true, nil
			}
		}
	}
	return false, nil
}
