package aws

import (
	"strconv"
	"strings"
)

// defaultMaxConnections estimates max_connections for an instance whose
// parameter group keeps RDS's default formula: PostgreSQL
// LEAST({DBInstanceClassMemory/9531392}, 5000), MySQL and MariaDB
// {DBInstanceClassMemory/12582880}. The class memory is the nominal one
// (RDS subtracts a little for the OS), so this is an estimate; 0 when the
// engine or class is not one flightdeck knows. It exists so the
// connections figure can be graded against the manual's 80 % alert.
func defaultMaxConnections(engine, class string) int {
	gib := classMemoryGiB(class)
	if gib <= 0 {
		return 0
	}
	bytes := gib * (1 << 30)
	switch {
	case strings.Contains(engine, "postgres"):
		return int(min(bytes/9531392, 5000))
	case strings.Contains(engine, "mysql"), engine == "mariadb":
		return int(bytes / 12582880)
	}
	return 0
}

// classMemoryGiB is the memory of an RDS instance class (db.r6g.xlarge →
// 32), 0 when unknown. Memory-optimised classes have 8 GiB per vCPU,
// general-purpose 4; a "large" has 2 vCPUs, an "xlarge" 4, an "Nxlarge" 4N.
func classMemoryGiB(class string) float64 {
	f := strings.Split(strings.TrimPrefix(class, "db."), ".")
	if len(f) != 2 {
		return 0
	}
	family, size := f[0], f[1]
	if strings.HasPrefix(family, "t") {
		// Burstable classes do not follow the per-vCPU ratio.
		return map[string]float64{"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}[size]
	}
	var perVCPU float64
	switch family[0] {
	case 'r':
		perVCPU = 8
	case 'm':
		perVCPU = 4
	case 'x':
		perVCPU = 16
	default:
		return 0
	}
	vcpu := 0
	switch {
	case size == "large":
		vcpu = 2
	case size == "xlarge":
		vcpu = 4
	case strings.HasSuffix(size, "xlarge"):
		n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge"))
		if err != nil || n <= 0 {
			return 0
		}
		vcpu = 4 * n
	default:
		return 0
	}
	return perVCPU * float64(vcpu)
}
