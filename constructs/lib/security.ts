/** Names shared by the constructs and the policy test about pod security exceptions. */

/**
 * Pod-template annotation saying why a pod needs more than the restricted profile (host
 * namespaces, host mounts, root, privilege). The policy test refuses any such pod without it.
 */
export const SECURITY_EXCEPTION_ANNOTATION = 'orchestrator.io/security-exception';

/** Capabilities a non-privileged container of ours may add (with a security exception). */
export const ALLOWED_ADDED_CAPABILITIES = ['SYS_PTRACE', 'DAC_READ_SEARCH'] as const;

/** The AppArmor annotation of one container (Kubernetes 1.27 has no securityContext field for it). */
export function appArmorAnnotation(container: string): string {
  return `container.apparmor.security.beta.kubernetes.io/${container}`;
}
