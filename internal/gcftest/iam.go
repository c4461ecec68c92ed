package gcftest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/iam/admin/apiv1/adminpb"
	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/resourcemanager/apiv3/resourcemanagerpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The IAM side of the stand-in: service accounts (the IAM Admin API), project IAM policies
// (the Resource Manager API), and credentials. Rules kept from the real APIs: account IDs of 6
// to 30 characters, ALREADY_EXISTS, descriptions of at most 256 bytes; a function or a policy
// binding may only name an account that exists, and a new account is unknown to them for
// Faults.AccountPropagation; policies are changed by read-modify-write on an etag (ABORTED on
// a concurrent change); a deleted account stays in policies as deleted:serviceAccount:…; and,
// once RequireCredentials is on, every call must carry a self-signed JWT made with a key this
// stand-in issued and has not deleted (UNAUTHENTICATED otherwise).

type account struct {
	sa      *adminpb.ServiceAccount
	created time.Time
}

type issuedKey struct {
	email string
	pub   *rsa.PublicKey
}

var accountID = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

// AddServiceAccount creates an account as its owner would in the console (visible at once).
func (c *ControlPlane) AddServiceAccount(email string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	project := strings.TrimSuffix(email[strings.Index(email, "@")+1:], ".iam.gserviceaccount.com")
	c.accounts[email] = &account{sa: &adminpb.ServiceAccount{Name: "projects/" + project + "/serviceAccounts/" + email,
		ProjectId: project, Email: email, UniqueId: randomID()}}
}

// ServiceAccounts lists the emails of the accounts that exist.
func (c *ControlPlane) ServiceAccounts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Collect(maps.Keys(c.accounts))
}

// FunctionAccount is the service account a function (by full name) runs as.
func (c *ControlPlane) FunctionAccount(function string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.functions[function]
	if !ok {
		return ""
	}
	return f.f.GetServiceConfig().GetServiceAccountEmail()
}

// ProjectMembers lists the members of a project's IAM policy holding a role.
func (c *ControlPlane) ProjectMembers(project, role string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, b := range c.projectPolicies[project].GetBindings() {
		if b.GetRole() == role {
			out = append(out, b.GetMembers()...)
		}
	}
	return out
}

// accountMissing is the API's answer for a function or binding naming an account that does
// not exist, or that a just-finished CreateServiceAccount has not yet made known; called with
// c.mu held.
func (c *ControlPlane) accountMissing(email string) error {
	a, ok := c.accounts[email]
	if ok && time.Since(a.created) >= c.faults.AccountPropagation {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "Service account %s does not exist.", email)
}

// iamAdmin is the IAM Admin API's service-account part.
type iamAdmin struct {
	adminpb.UnimplementedIAMServer
	c *ControlPlane
}

func (s *iamAdmin) CreateServiceAccount(ctx context.Context, req *adminpb.CreateServiceAccountRequest) (*adminpb.ServiceAccount, error) {
	project, ok := strings.CutPrefix(req.GetName(), "projects/")
	if !ok || !projectName.MatchString(project) {
		return nil, status.Errorf(codes.InvalidArgument, "name %q: want projects/PROJECT_ID", req.GetName())
	}
	if !accountID.MatchString(req.GetAccountId()) {
		return nil, status.Errorf(codes.InvalidArgument, "account_id %q must be 6 to 30 lowercase letters, digits and hyphens, starting with a letter", req.GetAccountId())
	}
	if err := checkDescription(req.GetServiceAccount()); err != nil {
		return nil, err
	}
	email := req.GetAccountId() + "@" + project + ".iam.gserviceaccount.com"
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.accounts[email]; exists {
		return nil, status.Errorf(codes.AlreadyExists, "Service account %s already exists within project projects/%s.", req.GetAccountId(), project)
	}
	sa := &adminpb.ServiceAccount{Name: req.GetName() + "/serviceAccounts/" + email, ProjectId: project, Email: email,
		UniqueId: randomID(), DisplayName: req.GetServiceAccount().GetDisplayName(), Description: req.GetServiceAccount().GetDescription()}
	c.accounts[email] = &account{sa: sa, created: time.Now()}
	return proto.Clone(sa).(*adminpb.ServiceAccount), nil
}

func (s *iamAdmin) GetServiceAccount(ctx context.Context, req *adminpb.GetServiceAccountRequest) (*adminpb.ServiceAccount, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.findAccount(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(a.sa).(*adminpb.ServiceAccount), nil
}

func (s *iamAdmin) PatchServiceAccount(ctx context.Context, req *adminpb.PatchServiceAccountRequest) (*adminpb.ServiceAccount, error) {
	next := req.GetServiceAccount()
	if err := checkDescription(next); err != nil {
		return nil, err
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.findAccount(next.GetName())
	if err != nil {
		return nil, err
	}
	for _, p := range req.GetUpdateMask().GetPaths() {
		switch p {
		case "description":
			a.sa.Description = next.GetDescription()
		case "display_name":
			a.sa.DisplayName = next.GetDisplayName()
		default:
			return nil, status.Errorf(codes.InvalidArgument, "update_mask path %q cannot be patched", p)
		}
	}
	return proto.Clone(a.sa).(*adminpb.ServiceAccount), nil
}

func (s *iamAdmin) DeleteServiceAccount(ctx context.Context, req *adminpb.DeleteServiceAccountRequest) (*emptypb.Empty, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.findAccount(req.GetName())
	if err != nil {
		return nil, err
	}
	delete(c.accounts, a.sa.GetEmail())
	// As IAM does, bindings naming the account stay, marked deleted.
	live := "serviceAccount:" + a.sa.GetEmail()
	for _, p := range c.projectPolicies {
		for _, b := range p.GetBindings() {
			for i, m := range b.Members {
				if m == live {
					b.Members[i] = "deleted:" + live + "?uid=" + a.sa.GetUniqueId()
				}
			}
		}
	}
	return &emptypb.Empty{}, nil
}

// findAccount resolves projects/{PROJECT|-}/serviceAccounts/EMAIL; called with c.mu held.
func (c *ControlPlane) findAccount(name string) (*account, error) {
	email := name[strings.LastIndex(name, "/")+1:]
	if !strings.HasPrefix(name, "projects/") || !strings.Contains(name, "/serviceAccounts/") {
		return nil, status.Errorf(codes.InvalidArgument, "name %q: want projects/PROJECT/serviceAccounts/EMAIL", name)
	}
	a, ok := c.accounts[email]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Unknown service account %s", email)
	}
	return a, nil
}

func checkDescription(sa *adminpb.ServiceAccount) error {
	if len(sa.GetDescription()) > 256 {
		return status.Errorf(codes.InvalidArgument, "description is %d bytes; at most 256 are allowed", len(sa.GetDescription()))
	}
	return nil
}

var projectName = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

// projectsIAM is the Resource Manager API's project IAM policy part.
type projectsIAM struct {
	resourcemanagerpb.UnimplementedProjectsServer
	c *ControlPlane
}

func projectOf(resource string) (string, error) {
	p, ok := strings.CutPrefix(resource, "projects/")
	if !ok || !projectName.MatchString(p) {
		return "", status.Errorf(codes.InvalidArgument, "resource %q: want projects/PROJECT_ID", resource)
	}
	return p, nil
}

func (s *projectsIAM) GetIamPolicy(ctx context.Context, req *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	project, err := projectOf(req.GetResource())
	if err != nil {
		return nil, err
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return readPolicy(c.projectPolicies, project), nil
}

func (s *projectsIAM) SetIamPolicy(ctx context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	project, err := projectOf(req.GetResource())
	if err != nil {
		return nil, err
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range req.GetPolicy().GetBindings() {
		for _, m := range b.GetMembers() {
			if email, ok := strings.CutPrefix(m, "serviceAccount:"); ok && strings.HasSuffix(email, ".iam.gserviceaccount.com") {
				if err := c.accountMissing(email); err != nil {
					return nil, err
				}
			}
		}
	}
	return writePolicy(c.projectPolicies, project, req.GetPolicy())
}

// RequireCredentials makes every call need a self-signed JWT made with a key IssueKey gave out
// (and DeleteKeys has not taken back), as Google's APIs need valid credentials; off, calls
// without credentials are served.
func (c *ControlPlane) RequireCredentials(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requireCredentials = on
}

// IssueKey creates a key for a service account, as `gcloud iam service-accounts keys create`
// does, and writes its JSON key file; it returns the file's path.
func (c *ControlPlane) IssueKey(t testing.TB, email string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	kid := randomID()
	c.mu.Lock()
	c.keys[kid] = issuedKey{email: email, pub: &key.PublicKey}
	c.mu.Unlock()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	file, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": strings.TrimSuffix(email[strings.Index(email, "@")+1:], ".iam.gserviceaccount.com"),
		"private_key_id": kid, "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "1" + kid, "token_uri": c.upload + "/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key-"+kid+".json")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// DeleteKeys takes back every key issued for an account; files holding them stop working.
func (c *ControlPlane) DeleteKeys(email string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for kid, k := range c.keys {
		if k.email == email {
			delete(c.keys, kid)
		}
	}
}

// Deny makes every call of one gRPC service (e.g. "google.iam.admin.v1.IAM") by an identity
// (a service account email) answer PERMISSION_DENIED, as a caller lacking that API's role
// is answered; it needs RequireCredentials, which tells who calls.
func (c *ControlPlane) Deny(email, service string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.denied[email+" "+service] = true
}

// authenticate is the gRPC interceptor checking credentials once RequireCredentials is on,
// and the permissions Deny took away.
func (c *ControlPlane) authenticate(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	c.mu.Lock()
	required := c.requireCredentials
	c.mu.Unlock()
	if required {
		email, err := c.checkJWT(ctx)
		if err != nil {
			return nil, status.Errorf(codes.Unauthenticated, "Request had invalid authentication credentials (%v). Expected an OAuth 2 access token or another valid authentication credential.", err)
		}
		service := strings.Split(strings.TrimPrefix(info.FullMethod, "/"), "/")[0]
		c.mu.Lock()
		denied := c.denied[email+" "+service]
		c.mu.Unlock()
		if denied {
			return nil, status.Errorf(codes.PermissionDenied, "Permission denied on %s for %s (or it may not exist).", info.FullMethod, email)
		}
	}
	return handler(ctx, req)
}

// checkJWT verifies the call's bearer token as a self-signed JWT (RS256) of an issued key and
// returns the caller's email.
func (c *ControlPlane) checkJWT(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	auth := md.Get("authorization")
	if len(auth) == 0 {
		return "", fmt.Errorf("no authorization metadata")
	}
	token, ok := strings.CutPrefix(auth[0], "Bearer ")
	parts := strings.Split(token, ".")
	if !ok || len(parts) != 3 {
		return "", fmt.Errorf("not a bearer JWT")
	}
	var header struct{ Alg, Kid string }
	var claims struct {
		Iss string
		Exp int64
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return "", err
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return "", err
	}
	c.mu.Lock()
	key, known := c.keys[header.Kid]
	c.mu.Unlock()
	if header.Alg != "RS256" || !known {
		return "", fmt.Errorf("key %q is unknown or was deleted", header.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, digest[:], sig); err != nil {
		return "", fmt.Errorf("bad signature")
	}
	if claims.Iss != key.email || time.Now().Unix() > claims.Exp {
		return "", fmt.Errorf("issuer or expiry does not match the key")
	}
	return key.email, nil
}

func decodeSegment(seg string, into any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}
