package externalmetrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	openapicommon "k8s.io/kube-openapi/pkg/common"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/apiserver"
	generatedcore "sigs.k8s.io/custom-metrics-apiserver/pkg/generated/openapi/core"
	generatedexternalmetrics "sigs.k8s.io/custom-metrics-apiserver/pkg/generated/openapi/externalmetrics"
)

// serverName names the API server in its logs and OpenAPI document.
const serverName = "streamscaler-external-metrics"

// certPairName is the pair read from (or written to) ServerOptions.CertDir: tls.crt and
// tls.key, the keys of a kubernetes.io/tls Secret.
const certPairName = "tls"

// ServerOptions configures Server. The zero value listens on 0.0.0.0 on a free port with
// an in-memory self-signed certificate and delegates to the in-cluster kube-apiserver.
type ServerOptions struct {
	// BindAddress is the IP to listen on; empty means 0.0.0.0.
	BindAddress string
	// Port is the port to listen on; 0 picks a free one (see Server.Addr).
	Port int
	// CertDir holds the serving certificate as tls.crt and tls.key. When they are missing a
	// self-signed pair is generated and written there; when CertDir is empty it is kept in
	// memory. An APIService that points at this server then needs insecureSkipTLSVerify or
	// the generated certificate as caBundle.
	CertDir string
	// Kubeconfig is the kube-apiserver that authenticates callers (TokenReview, and client
	// certificates against its extension-apiserver-authentication ConfigMap) and authorizes
	// them (SubjectAccessReview). Empty means in-cluster. Its identity needs the
	// system:auth-delegator ClusterRole and the extension-apiserver-authentication-reader
	// Role in kube-system.
	Kubeconfig string
}

// Server serves external.metrics.k8s.io/v1beta1 from a Store.
type Server struct {
	server   *apiserver.CustomMetricsAdapterServer
	listener net.Listener
}

// NewServer builds the server and opens its listener; Run serves.
func NewServer(store *Store, opts ServerOptions) (*Server, error) {
	host := opts.BindAddress
	if host == "" {
		host = "0.0.0.0"
	}
	bindIP := net.ParseIP(host)
	if bindIP == nil {
		return nil, fmt.Errorf("parsing the bind address %q: not an IP", host)
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("listening on %s:%d: %w", host, opts.Port, err)
	}
	srv, err := newAPIServer(store, opts, bindIP, listener)
	if err != nil {
		return nil, errors.Join(err, listener.Close())
	}
	return &Server{server: srv, listener: listener}, nil
}

// Addr is the address the server listens on, with the port it picked.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Run serves until ctx is done, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	if err := s.server.GenericAPIServer.PrepareRun().RunWithContext(ctx); err != nil {
		return fmt.Errorf("serving the external metrics API: %w", err)
	}
	return nil
}

// newAPIServer applies the options the way custom-metrics-apiserver's AdapterBase does,
// minus its flags, lister clients and informers, which an external-only provider does not
// need.
func newAPIServer(store *Store, opts ServerOptions, bindIP net.IP, listener net.Listener) (*apiserver.CustomMetricsAdapterServer, error) {
	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.BindAddress = bindIP
	serving.BindPort = listener.Addr().(*net.TCPAddr).Port
	serving.Listener = listener
	serving.ServerCert.CertDirectory = opts.CertDir
	serving.ServerCert.PairName = certPairName
	if err := serving.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("creating the self-signed serving certificate: %w", err)
	}

	authn := genericoptions.NewDelegatingAuthenticationOptions()
	authn.RemoteKubeConfigFile = opts.Kubeconfig
	authz := genericoptions.NewDelegatingAuthorizationOptions()
	authz.RemoteKubeConfigFile = opts.Kubeconfig

	var errs []error
	errs = append(errs, serving.Validate()...)
	errs = append(errs, authn.Validate()...)
	errs = append(errs, authz.Validate()...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("validating the server options: %w", err)
	}

	config := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	if err := serving.ApplyTo(&config.SecureServing, &config.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("configuring secure serving: %w", err)
	}
	if err := authn.ApplyTo(&config.Authentication, config.SecureServing, nil); err != nil {
		return nil, fmt.Errorf("configuring delegated authentication: %w", err)
	}
	if err := authz.ApplyTo(&config.Authorization); err != nil {
		return nil, fmt.Errorf("configuring delegated authorization: %w", err)
	}
	config.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openAPIDefinitions, openapinamer.NewDefinitionNamer(apiserver.Scheme))
	config.OpenAPIConfig.Info.Title = serverName
	config.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openAPIDefinitions, openapinamer.NewDefinitionNamer(apiserver.Scheme))
	config.OpenAPIV3Config.Info.Title = serverName

	adapterConfig := &apiserver.Config{GenericConfig: &config.Config}
	srv, err := adapterConfig.Complete(nil).New(serverName, nil, NewProvider(store))
	if err != nil {
		return nil, fmt.Errorf("creating the external metrics API server: %w", err)
	}
	return srv, nil
}

// openAPIDefinitions are the core and external metrics types, so the aggregator can
// merge this server's OpenAPI document.
func openAPIDefinitions(ref openapicommon.ReferenceCallback) map[string]openapicommon.OpenAPIDefinition {
	defs := generatedcore.GetOpenAPIDefinitions(ref)
	for name, def := range generatedexternalmetrics.GetOpenAPIDefinitions(ref) {
		defs[name] = def
	}
	return defs
}
