package testsrv

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// KubeVersion is the Kubernetes release scripts/kube-bins.sh builds.
const KubeVersion = "v1.31.4"

// Tokens of the static token file. Admin is in system:masters; Limited has
// no RBAC binding until a test gives it one.
const (
	KubeAdminToken   = "flightdeck-admin-token"
	KubeLimitedToken = "flightdeck-limited-token"
	KubeLimitedUser  = "limited"
)

// Kube is a throwaway control plane on loopback: etcd, kube-apiserver (TLS
// with a self-signed cert, static tokens, RBAC) and kube-controller-manager
// running only the deployment, replicaset and serviceaccount controllers.
// There is no scheduler and no kubelet: pods are created but never run, so
// ready counts stay 0.
type Kube struct {
	// URL is the API server, https://127.0.0.1:port.
	URL string
	// CAFile is the PEM of the self-signed serving certificate.
	CAFile string
	// AdminKubeconfig and LimitedKubeconfig are kubeconfig files for the
	// admin and the limited user (contexts "admin" and "limited").
	AdminKubeconfig, LimitedKubeconfig string
	// BinDir holds kube-apiserver, kube-controller-manager and kubectl.
	BinDir string
	// Dir holds data, certificates, kubeconfigs and logs.
	Dir string

	etcdBin       string
	apiPort       int
	etcdURL       string
	mu            sync.Mutex
	etcd, api, cm *Proc
}

// startProc launches one control-plane binary, logging to logPath.
func startProc(logPath, bin string, args ...string) (*Proc, error) {
	return Launch(logPath, exec.Command(bin, args...))
}

// KubeBinDir finds the control plane binaries: $FLIGHTDECK_KUBE_BIN_DIR, else
// scripts/kube-bins.sh's cache dir.
func KubeBinDir() (string, error) {
	dir := os.Getenv("FLIGHTDECK_KUBE_BIN_DIR")
	if dir == "" {
		cache := os.Getenv("FLIGHTDECK_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "flightdeck")
		}
		dir = filepath.Join(cache, "kube-"+KubeVersion)
	}
	for _, b := range []string{"kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("kubernetes control plane %w: %s not in %s; run scripts/kube-bins.sh (or set FLIGHTDECK_KUBE_BIN_DIR)", errUnavailable, b, dir)
		}
	}
	return dir, nil
}

func etcdBin() (string, error) {
	if p := os.Getenv("FLIGHTDECK_ETCD"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("etcd")
	if err != nil {
		return "", fmt.Errorf("kubernetes control plane %w: etcd not on PATH; apt-get install -y etcd-server", errUnavailable)
	}
	return p, nil
}

// StartKube starts a control plane for this test only and stops it at the
// end. Prefer SharedKube: start-up costs ~10 s.
func StartKube(t testing.TB) *Kube { t.Helper(); return start(t, LaunchKube) }

var sharedKube sharedServer[*Kube]

// SharedKube returns one control plane per test binary, started on first
// use. The package's TestMain must call StopSharedKube after m.Run.
func SharedKube(t testing.TB) *Kube { t.Helper(); return sharedKube.get(t, LaunchKube) }

// StopSharedKube stops and removes the shared control plane, if started.
func StopSharedKube() { sharedKube.stop() }

// LaunchKube starts etcd, kube-apiserver and kube-controller-manager in a
// new temp dir and waits (with a deadline) until the API server is ready.
func LaunchKube() (k *Kube, err error) {
	binDir, err := KubeBinDir()
	if err != nil {
		return nil, err
	}
	etcd, err := etcdBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "flightdeck-kube-")
	if err != nil {
		return nil, err
	}
	k = &Kube{BinDir: binDir, Dir: dir, etcdBin: etcd}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, k.logTails())
			k.Close()
		}
	}()
	if err := k.writeFiles(); err != nil {
		return k, err
	}
	if err := k.startEtcd(); err != nil {
		return k, err
	}
	if err := k.StartAPIServer(); err != nil {
		return k, err
	}
	k.cm, err = startProc(filepath.Join(dir, "kube-controller-manager.log"), filepath.Join(binDir, "kube-controller-manager"),
		"--kubeconfig="+k.AdminKubeconfig,
		"--controllers=deployment,replicaset,serviceaccount",
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		// Tests create and edit deployments in quick succession.
		"--concurrent-deployment-syncs=5",
		"--v=1",
	)
	if err != nil {
		return k, err
	}
	return k, nil
}

func (k *Kube) writeFiles() error {
	ca, key, err := selfSigned()
	if err != nil {
		return err
	}
	k.CAFile = filepath.Join(k.Dir, "serving.crt")
	files := map[string][]byte{
		"serving.crt": ca,
		"serving.key": key,
		"tokens.csv": []byte(KubeAdminToken + ",admin,uid-admin,\"system:masters\"\n" +
			KubeLimitedToken + "," + KubeLimitedUser + ",uid-limited\n"),
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return err
	}
	files["sa.key"] = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(k.Dir, name), b, 0o600); err != nil {
			return err
		}
	}
	if k.apiPort, err = freePort(); err != nil {
		return err
	}
	k.URL = "https://127.0.0.1:" + strconv.Itoa(k.apiPort)
	k.AdminKubeconfig = filepath.Join(k.Dir, "admin.kubeconfig")
	k.LimitedKubeconfig = filepath.Join(k.Dir, "limited.kubeconfig")
	if err := os.WriteFile(k.AdminKubeconfig, k.kubeconfig("admin", KubeAdminToken), 0o600); err != nil {
		return err
	}
	return os.WriteFile(k.LimitedKubeconfig, k.kubeconfig(KubeLimitedUser, KubeLimitedToken), 0o600)
}

// kubeconfig renders a kubeconfig whose only context is named user.
func (k *Kube) kubeconfig(user, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: flightdeck-test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: %s
  context:
    cluster: flightdeck-test
    user: %s
    namespace: default
current-context: %s
`, k.URL, k.CAFile, user, token, user, user, user)
}

// selfSigned makes a serving certificate for 127.0.0.1/localhost that is its
// own CA, so kubeconfigs can trust it directly.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "flightdeck-test-apiserver"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost", "kubernetes", "kubernetes.default.svc"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

func (k *Kube) startEtcd() error {
	cp, err := freePort()
	if err != nil {
		return err
	}
	pp, err := freePort()
	if err != nil {
		return err
	}
	k.etcdURL = "http://127.0.0.1:" + strconv.Itoa(cp)
	peer := "http://127.0.0.1:" + strconv.Itoa(pp)
	k.etcd, err = startProc(filepath.Join(k.Dir, "etcd.log"), k.etcdBin,
		"--name=flightdeck", "--data-dir="+filepath.Join(k.Dir, "etcd"),
		"--listen-client-urls="+k.etcdURL, "--advertise-client-urls="+k.etcdURL,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=flightdeck="+peer,
		"--log-level=warn", "--logger=zap",
	)
	if err != nil {
		return err
	}
	return k.etcd.WaitHTTP(k.etcdURL+"/health", nil, 60*time.Second)
}

// StartAPIServer (re)starts kube-apiserver on its port and waits for
// /readyz. Tests use it with StopAPIServer to prove recovery.
func (k *Kube) StartAPIServer() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.api != nil && !k.api.Exited() {
		return nil
	}
	var err error
	k.api, err = startProc(filepath.Join(k.Dir, "kube-apiserver.log"), filepath.Join(k.BinDir, "kube-apiserver"),
		"--etcd-servers="+k.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(k.apiPort),
		"--tls-cert-file="+filepath.Join(k.Dir, "serving.crt"),
		"--tls-private-key-file="+filepath.Join(k.Dir, "serving.key"),
		"--cert-dir="+filepath.Join(k.Dir, "certs"),
		"--service-account-key-file="+filepath.Join(k.Dir, "sa.key"),
		"--service-account-signing-key-file="+filepath.Join(k.Dir, "sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--token-auth-file="+filepath.Join(k.Dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		// No token controller runs; pods need no service account here.
		"--disable-admission-plugins=ServiceAccount",
		"--service-cluster-ip-range=10.96.0.0/24",
		"--endpoint-reconciler-type=none",
		// kwok's simulated node is reached at its InternalIP (loopback);
		// its Hostname resolves nowhere.
		"--kubelet-preferred-address-types=InternalIP",
		// Fewer moving parts on a busy 2-core machine.
		"--enable-priority-and-fairness=false",
		"--v=1",
	)
	if err != nil {
		return err
	}
	return k.api.WaitHTTP(k.URL+"/readyz", k.httpClient(), 90*time.Second)
}

// StopAPIServer stops kube-apiserver (etcd and the controllers keep running).
func (k *Kube) StopAPIServer() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.api.Stop(syscall.SIGTERM, 10*time.Second)
}

// httpClient trusts the serving certificate and sends the admin token.
func (k *Kube) httpClient() *http.Client {
	pool := x509.NewCertPool()
	if b, err := os.ReadFile(k.CAFile); err == nil {
		pool.AppendCertsFromPEM(b)
	}
	return &http.Client{
		Timeout:   2 * time.Second,
		Transport: tokenTransport{&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}
}

type tokenTransport struct{ base http.RoundTripper }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+KubeAdminToken)
	return t.base.RoundTrip(r)
}

// Kubectl runs the built kubectl as admin and returns its combined output,
// failing t on error.
func (k *Kube) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := k.KubectlAs(k.AdminKubeconfig, "", args...)
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return out
}

// KubectlAs runs kubectl with kubeconfig, stdin as input, and returns its
// combined output and error.
func (k *Kube) KubectlAs(kubeconfig, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(k.BinDir, "kubectl"), append([]string{"--kubeconfig=" + kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewBufferString(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Close stops every process and removes the directory (kept, with logs, when
// FLIGHTDECK_KEEP_KUBE=1).
func (k *Kube) Close() {
	k.mu.Lock()
	cm, api, etcd := k.cm, k.api, k.etcd
	k.mu.Unlock()
	for _, p := range []*Proc{cm, api, etcd} {
		p.Stop(syscall.SIGTERM, 10*time.Second)
	}
	if os.Getenv("FLIGHTDECK_KEEP_KUBE") != "1" {
		_ = os.RemoveAll(k.Dir)
	}
}

// Logs returns the tail of each server's log, for failure messages.
func (k *Kube) logTails() string {
	var b bytes.Buffer
	for _, n := range []string{"etcd.log", "kube-apiserver.log", "kube-controller-manager.log"} {
		data, err := os.ReadFile(filepath.Join(k.Dir, n))
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "--- %s ---\n%s\n", n, tail(data, 3000))
	}
	return b.String()
}

// LogTails returns the tail of each server's log.
func (k *Kube) LogTails() string { return k.logTails() }
