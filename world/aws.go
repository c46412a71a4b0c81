package world

import (
	"log/slog"
	"time"

	"flightdeck/config"
	"flightdeck/sources"
	awssrc "flightdeck/sources/aws"
)

// addAWS adds the AWS source of the aws: section to the hub and to the
// capabilities the ECS and RDS actions act through. Nothing is contacted
// here: missing credentials show in the AWS pane and the status bar, not as
// a startup failure.
func addAWS(cfg *config.Config, w *World, log *slog.Logger) (*awssrc.Source, error) {
	ac := cfg.AWS
	if ac == nil {
		return nil, nil
	}
	src, err := awssrc.New(awsOptions(ac, log))
	if err != nil {
		return nil, err
	}
	// The source enforces its own timeout across every region and names
	// what timed out; the hub's is a backstop a little later.
	w.hub.Add(src, sources.PollOptions{Interval: ac.Interval.D(), Timeout: ac.Timeout.D() + 2*time.Second})
	w.caps[src.Name()] = src
	return src, nil
}

// awsOptions maps the aws: section to the source's options.
func awsOptions(ac *config.AWS, log *slog.Logger) awssrc.Options {
	o := awssrc.Options{Profile: ac.Profile, EndpointURL: ac.EndpointURL, Timeout: ac.Timeout.D(), Log: log}
	for _, area := range ac.AllRegions() {
		r := awssrc.Region{Name: area.Region, Instances: area.RDS.Instances, Clusters: area.RDS.Clusters,
			ECSCluster: area.ECS.Cluster, Protected: area.ECS.Protected}
		for _, s := range area.ECS.Services {
			var b sources.DesiredBounds
			if s.Min != nil {
				b.Min, b.HasMin = int32(*s.Min), true
			}
			if s.Max != nil {
				b.Max, b.HasMax = int32(*s.Max), true
			}
			r.Services = append(r.Services, awssrc.Service{Name: s.Name, Bounds: b})
		}
		o.Regions = append(o.Regions, r)
	}
	return o
}
