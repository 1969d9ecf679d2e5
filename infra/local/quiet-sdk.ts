// Imported first by local entry points. The AWS SDK warns on Node < 22 that future releases will need
// Node 22; Lambda runs Node 22, and Node 20 is supported for local use, so the warning is only noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
