package server

// PlanCacheLen exposes the number of cached inline plans to tests.
func (s *Server) PlanCacheLen() int { return s.plans.len() }
