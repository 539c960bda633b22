/* version.h — appdeploy's version, shown by `appdeploy version` and sent as the User-Agent. */
#ifndef SM_VERSION_H
#define SM_VERSION_H

#define APPDEPLOY_VERSION "0.2.0"

#endif
