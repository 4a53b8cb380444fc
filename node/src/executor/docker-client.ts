// The one place a value of dockerode is imported from: the hook (dockerode-on-demand.ts) must
// be registered before dockerode loads, and ES modules evaluate their imports in order, so a
// module that imported dockerode before any module that registers the hook loaded ssh2 and gRPC anyway.
import './dockerode-on-demand.ts'
export { default as Docker } from 'dockerode'
