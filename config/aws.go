package config

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AWS is the aws: section: RDS instances and Aurora clusters with their
// CloudWatch figures, and ECS services. The top level describes the primary
// region; regions: adds others (the DR side) with their own instances and
// ECS cluster, because a bare list of region names could not say which
// cluster lives where.
//
// Credentials come from the AWS SDK's default chain only (environment,
// shared config and profile, SSO, web identity, container and instance
// roles); this file never holds keys.
type AWS struct {
	// Region is the primary region (us-east-1).
	Region string `yaml:"region"`
	// Profile is a shared-config profile (~/.aws/config); empty uses
	// $AWS_PROFILE or "default".
	Profile string `yaml:"profile,omitempty"`
	// EndpointURL sends every call to one endpoint instead of AWS: an
	// emulator such as moto (http://127.0.0.1:5000) or localstack.
	EndpointURL string `yaml:"endpoint_url,omitempty"`
	// Interval between reads (default 15s; CloudWatch's RDS figures are
	// one-minute averages).
	Interval Duration `yaml:"interval,omitempty"`
	// Timeout bounds one read of every region, SDK retries included
	// (default 10s).
	Timeout Duration  `yaml:"timeout,omitempty"`
	RDS     AWSRDS    `yaml:"rds,omitempty"`
	ECS     AWSECS    `yaml:"ecs,omitempty"`
	Regions []AWSArea `yaml:"regions,omitempty"`
}

// AWSArea is one more region: its RDS instances and its ECS cluster.
type AWSArea struct {
	Region string `yaml:"region"`
	RDS    AWSRDS `yaml:"rds,omitempty"`
	ECS    AWSECS `yaml:"ecs,omitempty"`
}

// AWSRDS names the RDS resources to show in a region. An empty list shows
// every resource of that kind in the region (up to 100).
type AWSRDS struct {
	Instances []string `yaml:"instances,omitempty"`
	Clusters  []string `yaml:"clusters,omitempty"`
}

// AWSECS is one ECS cluster of a region. Without a cluster no ECS service
// is read there.
type AWSECS struct {
	// Cluster is the cluster name (nudgecampaign-production).
	Cluster string `yaml:"cluster,omitempty"`
	// Protected clusters are never scaled to zero by flightdeck.
	Protected bool `yaml:"protected,omitempty"`
	// Services to show; empty shows every service of the cluster (up to
	// 100).
	Services []AWSService `yaml:"services,omitempty"`
}

// AWSService is one ECS service with the bounds of its desired count (the
// manual's Terraform min_count and max_count). Unset bounds leave only the
// policy's scale_max_change.
type AWSService struct {
	Name string `yaml:"name"`
	Min  *int   `yaml:"min,omitempty"`
	Max  *int   `yaml:"max,omitempty"`
}

// Defaults for the aws: section.
const (
	DefaultAWSInterval = 15 * time.Second
	DefaultAWSTimeout  = 10 * time.Second
)

// AllRegions lists the configured regions as areas, the primary first.
func (a *AWS) AllRegions() []AWSArea {
	out := []AWSArea{{Region: a.Region, RDS: a.RDS, ECS: a.ECS}}
	return append(out, a.Regions...)
}

// maxECSTasks is ECS's default quota of tasks per service.
const maxECSTasks = 5000

var (
	// us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-5.
	awsRegionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	// RDS: 1 to 63 letters, digits or hyphens, starting with a letter, no
	// trailing hyphen, no two consecutive hyphens. RDS stores them lower case.
	rdsIDRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{0,62}$`)
	// ECS cluster and service names: up to 255 letters, digits, hyphens,
	// underscores.
	ecsNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)
)

// checkAWS applies the aws: section's defaults and validates it. It is
// called from validate so the section stays in this file.
func (c *Config) checkAWS() Errors {
	a := c.AWS
	if a == nil {
		return nil
	}
	if a.Interval == 0 {
		a.Interval = Duration(DefaultAWSInterval)
	}
	if a.Timeout == 0 {
		a.Timeout = Duration(DefaultAWSTimeout)
	}
	var errs Errors
	add := func(path, format string, args ...any) { errs = append(errs, c.errAt(path, format, args...)) }
	// Bounded like every other source (a 1ns timeout fails every read,
	// 1000h freezes the pane); the floor is CloudWatch's one-minute
	// figures' reason to poll no faster than every second.
	errs = append(errs, c.checkPoll("aws", a.Interval, a.Timeout, time.Second)...)
	if a.EndpointURL != "" {
		if err := c.checkURL("aws.endpoint_url", a.EndpointURL); err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[string]string{}
	for i, area := range a.AllRegions() {
		base := "aws"
		if i > 0 {
			base = "aws.regions[" + strconv.Itoa(i-1) + "]"
		}
		switch {
		case area.Region == "" && i == 0:
			add("aws", "region is required (e.g. us-east-1)")
		case area.Region == "":
			add(base, "region is required (e.g. us-west-2)")
		case !awsRegionRE.MatchString(area.Region):
			add(base+".region", "%q is not an AWS region name such as us-east-1", area.Region)
		case seen[area.Region] != "":
			add(base+".region", "%s is already configured at %s", area.Region, seen[area.Region])
		default:
			seen[area.Region] = base
		}
		errs = append(errs, c.checkAWSArea(base, area)...)
	}
	return errs
}

func (c *Config) checkAWSArea(base string, area AWSArea) Errors {
	var errs Errors
	add := func(path, format string, args ...any) { errs = append(errs, c.errAt(path, format, args...)) }
	checkIDs := func(path, what string, ids []string) {
		dup := map[string]bool{}
		for j, id := range ids {
			p := path + "[" + strconv.Itoa(j) + "]"
			switch {
			case !rdsIDRE.MatchString(id) || strings.HasSuffix(id, "-") || strings.Contains(id, "--"):
				add(p, "%q is not an RDS %s identifier (letters, digits, single hyphens, starting with a letter, at most 63)", id, what)
			case dup[id]:
				add(p, "%s is listed twice", id)
			}
			dup[id] = true
		}
	}
	checkIDs(base+".rds.instances", "instance", area.RDS.Instances)
	checkIDs(base+".rds.clusters", "cluster", area.RDS.Clusters)
	e := area.ECS
	if e.Cluster == "" {
		if len(e.Services) > 0 {
			add(base+".ecs", "services need a cluster: ecs: {cluster: name, services: [...]}")
		}
		if e.Protected {
			add(base+".ecs.protected", "protects nothing without a cluster")
		}
		return errs
	}
	if !ecsNameRE.MatchString(e.Cluster) {
		add(base+".ecs.cluster", "%q is not an ECS cluster name (letters, digits, - and _)", e.Cluster)
	}
	names := map[string]bool{}
	for j, s := range e.Services {
		p := base + ".ecs.services[" + strconv.Itoa(j) + "]"
		switch {
		case s.Name == "":
			add(p, "name is required")
		case !ecsNameRE.MatchString(s.Name):
			add(p+".name", "%q is not an ECS service name (letters, digits, - and _)", s.Name)
		case names[s.Name]:
			add(p+".name", "%s is listed twice", s.Name)
		}
		names[s.Name] = true
		if s.Min != nil && (*s.Min < 0 || *s.Min > maxECSTasks) {
			add(p+".min", "must be between 0 and %d (ECS's tasks-per-service quota)", maxECSTasks)
		}
		if s.Min != nil && *s.Min == 0 && e.Protected {
			add(p+".min", "cluster %s is protected (never scaled to zero): min must be at least 1", e.Cluster)
		}
		if s.Max != nil && (*s.Max < 1 || *s.Max > maxECSTasks) {
			add(p+".max", "must be between 1 and %d (ECS's tasks-per-service quota)", maxECSTasks)
		}
		if s.Min != nil && s.Max != nil && *s.Min > *s.Max {
			add(p+".min", "min %d is above max %d", *s.Min, *s.Max)
		}
	}
	return errs
}
